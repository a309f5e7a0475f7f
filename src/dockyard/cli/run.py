"""``dockyard run`` and ``dockyard logs run TASK``: one command as a one-off Fargate task of an
app; dockyard exits 1 when it fails, its own code in the result (dockyard.deploy.oneoff)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from dockyard.cli.common import common_options, events_option, wiring
from dockyard.cli.deploy import app_target
from dockyard.cli.values import NAME, Whole
from dockyard.errors import DockyardError, ExitCode

if TYPE_CHECKING:
    from dockyard.aws.ecs import TaskSpec
    from dockyard.builds.task import Runner
    from dockyard.cli.wiring import Wiring
    from dockyard.deploy.oneoff import OneOff


@click.command()
@click.argument("app")
@click.argument("command", nargs=-1, required=True, metavar="-- CMD [ARGS]...")
@click.option("--image", "image", type=NAME, metavar="REF",
              help="Run this image (pinned by digest, as deploy pins it) with dockyard.yml's "
                   "settings [default: the service's running revision].")
@click.option("--cpu", type=Whole(), help="Task CPU units [default: the app's].")
@click.option("--memory", type=Whole(), help="Task memory in MiB [default: the app's].")
@click.option("--timeout", default="30m", show_default=True, metavar="DURATION",
              help="Stop the task after this long, like 30m; exit 124.")
@click.option("--detach", is_flag=True, help="Start the task, print its ARN and return; "
                                              "`dockyard logs run TASK` follows it later.")
@events_option
@common_options
def run(app: str, command: tuple[str, ...], image: str | None, cpu: int | None,
        memory: int | None, timeout: str, detach: bool) -> int:
    """Run CMD once as a Fargate task of APP, and exit 0 when CMD exits 0, else 1.

    The task is APP's: its image (the running revision's, or --image), environment and
    secrets by reference, subnets, security group and roles, as a revision of the family
    <name>-APP-run whose log lines go to APP's log group under run/. The lines stream to
    stderr from the first one. Exit codes: 0 when CMD exits 0, 1 when it exits non-zero
    (its own code is on stderr and in -o json as command_exit_code, so it never reads as
    dockyard's 2, 3 or 4); 70 when the task never ran (image pull, secrets, capacity); 124 at
    --timeout; 130, 143 or 129 on Ctrl-C, SIGTERM or SIGHUP, after the task was stopped.
    Put `--` before CMD:

        dockyard run web -- python manage.py migrate --noinput
    """
    from dataclasses import replace

    from dockyard.builds.task import Runner, StopSignal
    from dockyard.config import fargate
    from dockyard.deploy.image import pin_image
    from dockyard.deploy.oneoff import (
        RUN_STREAM_PREFIX,
        OneOff,
        base_definition,
        check_run_task,
        command_line,
        run_definition,
        run_one_off,
        task_spec,
    )
    from dockyard.errors import UsageError
    from dockyard.names import short_arn
    from dockyard.rules import parse_duration

    wired = wiring()
    seconds = parse_duration(timeout, most=86400)
    problem = fargate.given_size_problem(cpu, memory)  # before any AWS call
    if problem:
        raise UsageError(problem)
    wired.act_for_app(app, "run", seconds)
    target = app_target(wired, app)
    pinned = None if image is None else pin_image(
        image, project=wired.cfg.name, app=app, registry=target.registry,
        lookup=wired.registry, repository=wired.cfg.repository_of(app))
    base, used = base_definition(wired.cfg, target, wired.services, pinned)
    size_cpu = int(base["cpu"]) if cpu is None else cpu
    size_memory = int(base["memory"]) if memory is None else memory
    problem = fargate.task_size_problem(size_cpu, size_memory)
    if problem:
        raise UsageError(problem)
    # What RunTask would refuse is refused before a revision is registered for it.
    spec = check_run_task(task_spec(wired.cfg, target, "", list(command), cpu=size_cpu,
                                    memory=size_memory))
    arn = wired.services.register(run_definition(wired.cfg, app, base))
    spec = replace(spec, task_definition=arn)
    progress = wired.progress
    progress.note("run", f"running `{command_line(list(command))}` as a task of {app} "
                         f"({used.rsplit('/', 1)[-1]}, {short_arn(arn)})")
    runner = Runner(tasks=wired.tasks, logs=wired.logs, clock=wired.clock,
                    log_group=target.log_group, container=app, stop=StopSignal(),
                    progress=progress, what="run", stream_prefix=RUN_STREAM_PREFIX)
    if detach:
        return _detached(wired, runner, spec, image=used, log_group=target.log_group)
    done = OneOff(app, arn, used, list(command), run_one_off(runner, spec, float(seconds)))
    return _ran(wired, done, target.log_group)


def _detached(wired: Wiring, runner: Runner, spec: TaskSpec, *, image: str,
              log_group: str) -> int:
    """``run --detach``: start the task and print it. A signal before the ARN is printed
    stops the task: nobody could follow it."""
    from dockyard.deploy.oneoff import RUN_STREAM_PREFIX

    started = runner.start(spec)
    assert started is not None, "nothing asked a detached run to stop"
    task = started[0]
    try:
        stream = f"{RUN_STREAM_PREFIX}/{spec.container}/{task.task_id}"
        wired.result({"app": spec.container, "task_arn": task.arn,
                      "task_definition": spec.task_definition, "image": image,
                      "log_group": log_group, "log_stream": stream}, task.arn)
    except BaseException as err:
        runner.give_up(spec.cluster, task.arn, err)
        raise
    return ExitCode.OK


def follow_run(wired: Wiring, task_ref: str) -> int:
    """``dockyard logs run TASK``: follow a one-off started with ``run --detach`` to its end
    and report it as ``run`` does."""
    from dockyard.aws.ecs import TaskSpec
    from dockyard.builds.task import Runner, StopSignal
    from dockyard.deploy.oneoff import RUN_STREAM_PREFIX, RUN_TAG, OneOff, run_one_off
    from dockyard.polling import Poll, WaitTimeoutError, poll_until

    cluster = wired.cluster
    try:  # a task started a moment ago may not be visible yet (eventual consistency)
        task = poll_until(lambda: wired.tasks.find(cluster, task_ref) if cluster else None,
                          lambda found: found is not None,
                          Poll("the task to be visible", interval=2, timeout=10, first=0.5,
                               reads=5),
                          wired.clock)
    except WaitTimeoutError:
        task = None
    if task is None or RUN_TAG not in task.tags:
        raise DockyardError(f"no dockyard run task {task_ref} in {cluster or wired.cfg.name}",
                            hint="ECS forgets stopped tasks after about an hour")
    app = task.tags[RUN_TAG]
    target = app_target(wired, app)
    spec = TaskSpec(cluster=cluster, task_definition=task.task_definition, subnets=[],
                    security_groups=[], assign_public_ip=False, capacity_provider="FARGATE",
                    container=app, command=task.command, cpu=0, memory=0, storage_gib=None,
                    tags=task.tags)
    runner = Runner(tasks=wired.tasks, logs=wired.logs, clock=wired.clock,
                    log_group=target.log_group, container=app, stop=StopSignal(),
                    progress=wired.progress, what="run", stream_prefix=RUN_STREAM_PREFIX)
    outcome = run_one_off(runner, spec, 86400.0, started=task)
    image = wired.services.image_of(task.task_definition) if task.task_definition else ""
    return _ran(wired, OneOff(app, task.task_definition, image, task.command, outcome),
                target.log_group)


def _ran(wired: Wiring, done: OneOff, log_group: str) -> int:
    """Report a one-off's end: the result document, then dockyard's exit code (an error for
    any but 0, naming how it ended). The command's own code is ``command_exit_code``: a
    command that exits 3 makes ``run`` exit 1, so it never reads as dockyard's own 3."""
    from dockyard import interrupts
    from dockyard.builds.task import Status
    from dockyard.deploy.oneoff import command_line

    outcome = done.outcome
    assert outcome is not None
    code = interrupts.exit_code(done.exit_code)
    document = {"ok": code == ExitCode.OK, "exit_code": code,
                "command_exit_code": done.command_exit_code, "app": done.app,
                "command": done.command, "image": done.image,
                "task_definition": done.task_definition, "task_arn": outcome.task_arn,
                "status": "failed" if outcome.status == Status.BUILD_FAILED
                else str(outcome.status), "reason": outcome.reason,
                "log_group": log_group, "log_stream": outcome.log_stream,
                "duration_seconds": round(outcome.seconds, 1)}
    wired.result(document, None)
    if code == ExitCode.OK:
        wired.progress.note("run", f"`{command_line(done.command)}` exited 0")
        return ExitCode.OK
    if done.command_exit_code is not None:
        raise DockyardError(f"`{command_line(done.command)}` exited {done.command_exit_code}",
                            hint="dockyard run exits 1 whenever the command fails; -o json "
                                 "or --events gives the command's own code "
                                 "(command_exit_code)")
    what = {Status.TIMED_OUT: "the task was stopped at the timeout",
            Status.CANCELLED: "the task was stopped"}.get(outcome.status, "the task did not run")
    raise DockyardError(f"{what}: {outcome.reason or outcome.status}", exit_code=done.exit_code)
