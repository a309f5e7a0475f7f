// jenkins.security.ApiTokenProperty as dockyard-users.groovy uses it (core 2.568.2): named
// tokens with a uuid; addFixedNewToken refuses what ApiTokenStore.addFixedNewToken refuses (not
// "11" and 32 hex digits).
package jenkins.security

class ApiTokenProperty {
    static class TokenInfoAndStats {
        final String uuid
        final String name
        final String value

        TokenInfoAndStats(String uuid, String name, String value) {
            this.uuid = uuid
            this.name = name
            this.value = value
        }
    }

    final List<TokenInfoAndStats> tokens = []

    Collection<TokenInfoAndStats> getTokenList() { new ArrayList<TokenInfoAndStats>(tokens) }

    void revokeToken(String uuid) { tokens.removeAll { it.uuid == uuid } }

    String addFixedNewToken(String name, String tokenPlainValue) {
        if (tokenPlainValue.length() != 34) {
            throw new IllegalArgumentException('The token must consist of 2 characters for the ' +
                'version and 32 hex-characters for the secret')
        }
        if (tokenPlainValue.substring(0, 2) != '11') {
            throw new IllegalArgumentException('The given version is not recognized')
        }
        if (!(tokenPlainValue.substring(2).toLowerCase() ==~ /[a-f0-9]{32}/)) {
            throw new IllegalArgumentException('The secret part of the token must consist of ' +
                '32 hex-characters')
        }
        String uuid = UUID.randomUUID().toString()
        tokens << new TokenInfoAndStats(uuid, name, tokenPlainValue)
        return uuid
    }
}
