"""``dockyard exec APP [-- CMD]``: a shell, or one command, in a running task of an app."""

from __future__ import annotations

import click

from dockyard.cli.common import common_options, wiring
from dockyard.cli.deploy import app_target
from dockyard.errors import DockyardError, ExitCode


@click.command("exec")
@click.argument("app")
@click.argument("command", nargs=-1, metavar="[-- CMD [ARGS]...]")
@click.option("--task", "task_ref", metavar="TASK",
              help="The task (its id or ARN) [default: the newest running task with ECS Exec].")
@common_options
def exec_command(app: str, command: tuple[str, ...], task_ref: str | None) -> int:
    """Open a shell (or run CMD) in a running task of APP through ECS Exec.

    Only for an app whose dockyard.yml says `exec: true` (off by default): its task role may
    then open ECS Exec's channels, and each session is written to the app's log group
    (who opened it is in CloudTrail). The session runs as root in the app's container.
    Needs the Session Manager plugin on this machine; without it dockyard says where to get
    it and the equivalent `aws ecs execute-command`. Exits with the plugin's status (ECS
    Exec does not pass a command's own exit code back). Not for pipeline builds.

    \b
        dockyard exec web
        dockyard exec web -- python manage.py shell
    """
    import os
    import shutil
    import signal
    import subprocess

    from dockyard.aws.errors import error_code
    from dockyard.deploy import shell
    from dockyard.deploy.targets import check_app

    wired = wiring()
    if wired.pipeline_build is not None:
        raise DockyardError("dockyard exec is for people: a pipeline build may not open a "
                            "session in a task", exit_code=ExitCode.USAGE)
    check_app(wired.cfg, app)
    shell.check_enabled(wired.cfg, app)
    target = app_target(wired, app)
    tasks = wired.services.service_tasks(target.cluster, app, "RUNNING", limit=100)
    task = shell.choose_task(app, tasks, task_ref)
    line = shell.command_string(command)
    region, profile = wired.cfg.region, wired.run.profile or ""
    plugin = shutil.which(shell.PLUGIN)
    if plugin is None:
        raise shell.missing_plugin_error(region=region, profile=profile, cluster=target.cluster,
                                         task=task.task_id, container=app, command=line)
    version = shell.plugin_version(_plugin_output([plugin, "--version"]))
    try:
        session = wired.tasks.execute_command(target.cluster, task.arn, app, line)
    except DockyardError as err:
        cause = err.__cause__
        code = error_code(cause) if cause is not None and hasattr(cause, "response") else ""
        if code == "TargetNotConnectedException":
            raise shell.not_connected_error(app, task.task_id) from err
        raise
    wired.progress.note("exec", f"`{line}` in task {task.task_id} of {app} (session "
                                f"{session.get('sessionId', '?')}, written to "
                                f"{target.log_group})")
    started = shell.plugin_session(session, region=region, profile=profile,
                                   cluster=target.cluster, task=task, container=app,
                                   endpoint=wired.tasks.endpoint, version=version)
    # As the AWS CLI does: the keys that send signals belong to the session, not to dockyard.
    keys = (signal.SIGINT, signal.SIGQUIT, signal.SIGTSTP)
    previous = {key: signal.signal(key, signal.SIG_IGN) for key in keys}
    try:
        status = subprocess.call([plugin, *started.argv[1:]],
                                 env={**os.environ, **started.env})
    finally:
        for key, handler in previous.items():
            signal.signal(key, handler)
    if status != 0:
        raise DockyardError(f"the Session Manager plugin exited {status}",
                            exit_code=status if 0 < status < 256 else ExitCode.FAILED)
    return ExitCode.OK


def _plugin_output(argv: list[str]) -> str:
    import subprocess

    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=10,
                              check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
