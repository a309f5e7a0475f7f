// dockyardBuild: build an image with kaniko on Fargate (`dockyard build`) and return its
// reference, repo@sha256:..., for dockyardDeploy.
//
//   def image = dockyardBuild(repo: 'web')
//   def image = dockyardBuild(repo: 'web', context: 'services/web', tags: [env.GIT_COMMIT],
//                             buildArgs: [VERSION: '1.2.0'], platform: 'linux/amd64,linux/arm64')
//
// Named arguments: repo (required: an app of dockyard.yml), context ('.'), dockerfile, tags,
// buildArgs, target, platform, timeout ('45m'), noCache, spot, config ('dockyard.yml').

def call(Map args = [:]) {
    if (!args.repo) {
        error("dockyardBuild: repo is required, for example dockyardBuild(repo: 'web')")
    }
    Map result = dockyardCli('build', argv(args))
    echo "dockyard build: ${result.ref}"
    return result.ref
}

// The command line for these arguments (plain Groovy: no pipeline steps in here).
@NonCPS
static List argv(Map args) {
    List argv = ['dockyard', 'build', '--repo', args.repo, '--config', args.config ?: 'dockyard.yml']
    if (args.dockerfile) {
        argv += ['--dockerfile', args.dockerfile]
    }
    for (tag in (args.tags ?: [])) {
        argv += ['--tag', tag]
    }
    (args.buildArgs ?: [:]).each { key, value -> argv += ['--build-arg', "${key}=${value}"] }
    if (args.target) {
        argv += ['--target', args.target]
    }
    if (args.platform) {
        argv += ['--platform', args.platform]
    }
    if (args.timeout) {
        argv += ['--timeout', args.timeout]
    }
    if (args.noCache) {
        argv += ['--no-cache']
    }
    if (args.spot != null) {
        argv += [args.spot ? '--spot' : '--no-spot']
    }
    return argv + ['--output', 'json', args.context ?: '.']
}
