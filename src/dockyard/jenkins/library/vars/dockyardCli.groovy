// Runs one dockyard command with --output json on this agent and returns its JSON document.
// The command's progress (kaniko's log, the deployment's events) streams to the build log as
// it happens; its JSON result is read from a file. A non-zero exit fails the stage with the
// CLI's own error line and exit code.
//
// AWS credentials: the step binds this build's OpenID Connect id token (the controller's
// dockyard-aws credential, the oidc-provider plugin) as DOCKYARD_ID_TOKEN for the command
// alone, and dockyard exchanges it with AWS STS for the role of the build's tier. The token
// names the build's job and branch as Jenkins knows them; nothing in a Jenkinsfile changes
// that, and the agent itself holds no credentials.
//
// dockyardBuild and dockyardDeploy call this; pipelines may too, for other dockyard commands:
//   def status = dockyardCli('status', ['dockyard', 'status', 'web', '--output', 'json'])

def call(String name, List argv) {
    // Outside the workspace, so a build never packs these files into its context.
    String dir = "${env.WORKSPACE_TMP ?: "${pwd()}@tmp"}/dockyard"
    String out = "${dir}/${name}.json"
    String err = "${dir}/${name}.err"
    String command = commandLine(argv)
    int status = 0
    withCredentials([string(credentialsId: 'dockyard-aws', variable: 'DOCKYARD_ID_TOKEN')]) {
        status = sh(label: "dockyard ${name}", returnStatus: true, script: """#!/bin/bash
set -o pipefail
mkdir -p ${commandLine([dir])}
{ ${command} 2>&1 1>&3 3>&- | tee ${commandLine([err])} >&2; } 3>${commandLine([out])}
""")
    }
    String text = fileExists(out) ? readFile(out).trim() : ''
    Map document = text.startsWith('{') ? parsed(text) : [:]
    if (status != 0) {
        String message = lastError(fileExists(err) ? readFile(err) : '')
        error("${message ?: "dockyard ${name} failed"} (dockyard ${name} exit code ${status})")
    }
    return document
}

// The words for bash, each quoted so that nothing in it is expanded.
@NonCPS
static String commandLine(List argv) {
    return argv.collect { "'" + it.toString().replace("'", "'\"'\"'") + "'" }.join(' ')
}

// The CLI's error line ("error: ..."), and its hint when there is one.
@NonCPS
static String lastError(String stderr) {
    List lines = stderr.readLines()
    int at = lines.findLastIndexOf { it.startsWith('error: ') }
    if (at < 0) {
        return ''
    }
    String message = lines[at].substring('error: '.length())
    if (at + 1 < lines.size() && lines[at + 1].startsWith('hint: ')) {
        message += " (${lines[at + 1]})"
    }
    return message
}

@NonCPS
static Map parsed(String text) {
    return new groovy.json.JsonSlurperClassic().parseText(text) as Map
}
