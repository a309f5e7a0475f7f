// At every start, under either realm, the records of the users that are not people (and of
// the local admin) lose every API token and session a person may have left on them.
// The Jenkins users that are not people, under GitHub sign-in (jenkins.sign_in.github): each
// agent pool's user and the user every build runs as. The security realm is GitHub's, where
// they have no account, so this script, run by the controller at every start
// (JENKINS_HOME/init.groovy.d, after configuration as code has applied), makes them:
// - each user's record (hudson.model.User.getById(id, true)). Jenkins impersonates a user its
//   realm cannot look up as itself with no group (User.getUserDetailsForImpersonation2: the
//   github-oauth realm answers UserMayOrMayNotExistException2 for a request that is not a
//   GitHub sign-in), which is what authorize-project runs builds as and what an API token
//   authenticates as; the matrix grants each user by name;
// - each pool's user an API token made from its pool's Secrets Manager secret, the one the
//   pool's agents hold (jenkins.security.ApiTokenProperty.addFixedNewToken: "11" and 32 hex
//   digits). The swarm client joins with it as its password (BasicHeaderApiTokenAuthenticator,
//   tried before the realm's password check). The token is "11" and the first 32 hex digits
//   of the SHA-256 of the secret, as jenkins/agent/swarm-agent.sh computes it; it is replaced
//   at every start, so a rotated secret takes effect with the next controller.
// The secrets are read the way configuration as code reads ${name}: through its secret
// sources (the Secrets Manager secret source on AWS, the environment in the image's boot
// check). The boot check requires the line this script logs when it is done.
import hudson.model.User
import io.jenkins.plugins.casc.SecretSource
import java.security.MessageDigest
import java.util.logging.Logger
import jenkins.security.ApiTokenProperty
import jenkins.security.seed.UserSeedProperty

TOKEN_NAME = 'dockyard agent pool'

static String agentToken(String secret) {
    byte[] digest = MessageDigest.getInstance('SHA-256').digest(secret.getBytes('UTF-8'))
    return '11' + digest.encodeHex().toString().substring(0, 32)
}

static String reveal(String name) {
    for (SecretSource source : SecretSource.all()) {
        source.init()
        Optional<String> found = source.reveal(name)
        if (found.isPresent()) {
            return found.get()
        }
    }
    throw new IllegalStateException("dockyard-users: no secret source holds ${name}")
}

File home = new File(System.getProperty('dockyard.home', '/usr/share/dockyard'))
Map settings = new groovy.json.JsonSlurper().parse(new File(home, 'trust.json')) as Map
Map<String, String> tokenUsers = (settings.tokenUsers ?: [:]) as Map<String, String>
List<String> made = []
// What a person may have left on these records under another realm: every API token (a GitHub
// account whose login is "admin" or "agents-trusted" can make tokens on that record while
// GitHub signs people in, and the local realm would take them after a switch back), and every
// session and remember-me cookie (renewing the user's seed ends them). The pools' tokens are
// made again below.
List<String> reset = []
((settings.resetUsers ?: []) as List<String>).each { String id ->
    User user = User.getById(id, false)
    if (user == null) {
        return
    }
    ApiTokenProperty tokens = user.getProperty(ApiTokenProperty)
    tokens?.tokenList?.each { tokens.revokeToken(it.uuid) }
    user.getProperty(UserSeedProperty)?.renewSeed()
    user.save()
    reset << id
}
tokenUsers.each { String id, String secretName ->
    User user = User.getById(id, true)
    ApiTokenProperty tokens = user.getProperty(ApiTokenProperty)
    if (tokens == null) {
        tokens = new ApiTokenProperty()
        user.addProperty(tokens)
    }
    tokens.tokenList.findAll { it.name == TOKEN_NAME }.each { tokens.revokeToken(it.uuid) }
    tokens.addFixedNewToken(TOKEN_NAME, agentToken(reveal(secretName)))
    user.save()
    made << id
}
if (settings.buildUser) {
    User.getById(settings.buildUser as String, true).save()
    made << (settings.buildUser as String)
}
Logger.getLogger('dockyard.users').info(
    "dockyard-users: users that are not people in place: ${made.join(', ') ?: 'none'}; " +
    "tokens and sessions dropped: ${reset.join(', ') ?: 'none'}")
