// dockyardRun: run one command as a one-off Fargate task of an app (`dockyard run`), with the
// app's image, environment, secrets and network, and wait for its exit code. The stage fails
// when the command exits non-zero, with dockyard's message (which names the command's own
// code) and dockyard's exit code (1; 70 when the task never ran, 124 at the timeout), before
// anything later in the pipeline changes the service. The result's command_exit_code is the
// command's own code, exit_code dockyard's.
//
//   dockyardRun('web', ['python', 'manage.py', 'migrate', '--noinput'], image: env.IMAGE)
//   def result = dockyardRun('web', ['python', 'manage.py', 'check'])   // the running revision
//
// Options: image (what dockyardBuild returned; default the service's running revision),
// timeout ('30m'), cpu, memory, config ('dockyard.yml').

def call(Map options = [:], String app, List command) {
    if (!app || !command) {
        error("dockyardRun: an app and a command are required, for example " +
              "dockyardRun('web', ['python', 'manage.py', 'migrate'], image: image)")
    }
    List argv = ['dockyard', 'run', app, '--config', options.config ?: 'dockyard.yml']
    if (options.image) {
        argv += ['--image', options.image]
    }
    if (options.timeout) {
        argv += ['--timeout', options.timeout]
    }
    if (options.cpu) {
        argv += ['--cpu', options.cpu.toString()]
    }
    if (options.memory) {
        argv += ['--memory', options.memory.toString()]
    }
    argv += ['--output', 'json', '--'] + command
    Map result = dockyardCli('run', argv)
    echo "dockyard run: ${app} `${command.join(' ')}` exited ${result.command_exit_code} (${result.task_arn})"
    return result
}
