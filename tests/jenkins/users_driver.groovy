// Runs the controller's dockyard-users.groovy against the Jenkins stand-ins (stubs/), with the
// secrets of a JSON map as the one secret source, and prints the users it left as JSON:
// {"users": {ID: {"saves": N, "tokens": [[NAME, VALUE], ...], "renewals": N}}}.
//
//   groovy -cp STUBS users_driver.groovy SCRIPT_DIR SECRETS_JSON [RUNS [BEFORE_JSON]]
//
// BEFORE_JSON: records that exist before the start, {ID: [TOKEN NAME, ...]}, each with a seed
// (as a user who signed in and made API tokens would have).
import groovy.json.JsonOutput
import groovy.json.JsonSlurper
import hudson.model.User
import io.jenkins.plugins.casc.SecretSource
import jenkins.security.ApiTokenProperty
import jenkins.security.seed.UserSeedProperty

String dir = args[0]
Map<String, String> secrets = new JsonSlurper().parseText(args[1]) as Map<String, String>
int runs = args.length > 2 ? args[2] as int : 1
Map<String, List<String>> before = args.length > 3 ?
    new JsonSlurper().parseText(args[3]) as Map<String, List<String>> : [:]
before.each { String id, List<String> names ->
    User user = User.getById(id, true)
    ApiTokenProperty tokens = new ApiTokenProperty()
    names.each { tokens.addFixedNewToken(it, '11' + '0' * 32) }
    user.addProperty(tokens)
    user.addProperty(new UserSeedProperty())
}
SecretSource.SOURCES << new SecretSource() {
    Optional<String> reveal(String name) { Optional.ofNullable(secrets[name]) }
}
System.setProperty('dockyard.home', dir)
runs.times {
    new GroovyShell(this.class.classLoader).evaluate(new File(dir, 'dockyard-users.groovy'))
}
println JsonOutput.toJson([users: User.RECORDS.collectEntries { String id, User user ->
    ApiTokenProperty tokens = user.getProperty(ApiTokenProperty)
    UserSeedProperty seed = user.getProperty(UserSeedProperty)
    [(id): [saves: user.saves,
            tokens: tokens ? tokens.tokenList.collect { [it.name, it.value] } : [],
            renewals: seed ? seed.renewals : 0]]
}])
