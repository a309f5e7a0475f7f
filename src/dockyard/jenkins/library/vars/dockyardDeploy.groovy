// dockyardDeploy: roll an app's ECS service to an image (`dockyard deploy`) and wait for the
// deployment's own outcome. The stage fails when ECS rolled the deployment back (exit 4) or
// it is still running at the timeout (exit 124), with dockyard's message.
//
//   dockyardDeploy('web', image)
//   def result = dockyardDeploy('web', image, timeout: '50m')   // result.url, result.revision
//
// Options: timeout (default: as long as the app's strategy can take, from dockyard.yml: its
// start, smoke test and bakes, and 10 minutes more), config ('dockyard.yml').

def call(Map options = [:], String app, String image) {
    if (!app || !image) {
        error("dockyardDeploy: an app and an image are required, for example dockyardDeploy('web', image)")
    }
    List argv = ['dockyard', 'deploy', app, '--image', image,
                 '--config', options.config ?: 'dockyard.yml']
    if (options.timeout) {
        argv += ['--timeout', options.timeout]
    }
    argv += ['--output', 'json']
    Map result = dockyardCli('deploy', argv)
    echo "dockyard deploy: ${app} ${result.revision} ${result.outcome}" +
         (result.url ? " at ${result.url}" : '')
    return result
}
