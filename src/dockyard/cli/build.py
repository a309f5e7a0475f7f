"""``dockyard build`` and ``dockyard logs build TASK``: images built by kaniko on Fargate."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from dockyard.cli.common import common_options, events_option, wiring
from dockyard.cli.values import NAME, PATH, Whole
from dockyard.errors import DockyardError, ExitCode, UsageError
from dockyard.ui.console import Console

if TYPE_CHECKING:
    from dockyard.builds.builder import Builder, Detached
    from dockyard.builds.request import BuildOptions
    from dockyard.builds.runner import BuildResult
    from dockyard.cli.wiring import Wiring


@click.command()
@click.argument("context", default=".", type=NAME, metavar="[CONTEXT]")
@click.option("--repo", "repository", type=NAME, metavar="NAME",
              help="An app or platform repository (web, jenkins-controller), or an image name "
                   "in another registry (docker.io/you/app).")
@click.option("--tag", "tags", multiple=True, metavar="T", help="Also tag the image T; repeatable.")
@click.option("--dockerfile", "-f", default="Dockerfile", show_default=True, type=NAME,
              help="The Dockerfile, relative to CONTEXT.")
@click.option("--build-arg", "build_args", multiple=True, metavar="K=V",
              help="A build argument; repeatable.")
@click.option("--target", type=NAME, help="The stage of a multi-stage Dockerfile to build.")
@click.option("--platform", "platforms", metavar="LIST",
              help="linux/amd64, linux/arm64, or both (one task each, then an image index).")
@click.option("--spot/--no-spot", default=None, help="Fargate Spot (retried once on demand).")
@click.option("--cpu", type=Whole(), help="Task CPU units [default: builder.cpu].")
@click.option("--memory", type=Whole(), help="Task memory in MiB [default: builder.memory].")
@click.option("--storage", "storage_gib", type=Whole(), help="Ephemeral storage in GiB.")
@click.option("--no-cache", is_flag=True, help="Do not use or fill the layer cache.")
@click.option("--rebuild", is_flag=True,
              help="Build even when a trusted build already made an image from the same "
                   "inputs (context, Dockerfile, build args, target, platforms); without it, "
                   "that image is returned and no task starts.")
@click.option("--timeout", "timeout", metavar="DURATION",
              help="Stop the build after this long, like 45m [default: builder.timeout_minutes].")
@click.option("--detach", is_flag=True, help="Start the build, print its task ARN and return.")
@click.option("--list-context", is_flag=True,
              help="Print what would be sent and its size, without AWS.")
@click.option("--save-context", "save_context", type=PATH, metavar="FILE",
              help="Write the archive that would be uploaded (the same bytes, under the same "
                   "content name) to FILE and print its name and size, without AWS.")
@events_option
@common_options
def build(context: str, repository: str | None, tags: tuple[str, ...], dockerfile: str,
          build_args: tuple[str, ...], target: str | None, platforms: str | None,
          spot: bool | None, cpu: int | None, memory: int | None, storage_gib: int | None,
          no_cache: bool, rebuild: bool, timeout: str | None, detach: bool,
          list_context: bool,
          save_context: Path | None) -> int:
    """Build an image from CONTEXT with kaniko on Fargate; print its reference.

    CONTEXT is a folder (default .), a git URL at a ref (https://github.com/org/repo.git#main)
    or an s3://bucket/key.tar.gz. stdout is only the result, `repo@sha256:...`, so
    IMAGE=$(dockyard build --repo web .) works; kaniko's log goes to stderr. A failed build
    exits 1 (kaniko's own code is on the error line and in -o json), a task that never ran
    70, a timeout 124, Ctrl-C, SIGTERM or SIGHUP 130, 143 or 129 (the remote task is stopped
    first).
    """
    wired = wiring()
    if list_context and save_context:
        raise UsageError("--list-context and --save-context: choose one")
    if list_context:
        return _list_context(context, dockerfile, wired.console, wired.output)
    if save_context:
        return _save_context(context, dockerfile, save_context, wired)
    if not repository:
        raise UsageError("--repo is required: which repository the image goes to",
                         hint="an app name from dockyard.yml, such as --repo web")
    options: BuildOptions = {"tags": tags, "dockerfile": dockerfile, "build_args": build_args,
               "target": target, "platforms": platforms, "spot": spot, "cpu": cpu,
               "memory": memory, "storage_gib": storage_gib, "no_cache": no_cache,
               "timeout": timeout}
    from dockyard.builds.environment import check_options

    check_options(wired.cfg, options)
    from dockyard.builds.sources import check_local
    from dockyard.rules import parse_duration

    check_local(context)
    seconds = parse_duration(timeout) if timeout else wired.cfg.builder.timeout_minutes * 60
    wired.act_for_build(repository, seconds)
    builder = _builder(wired)
    if detach:
        return _detached(builder.detach(repository, context, options), wired)
    return _report(builder.run(repository, context, options, rebuild=rebuild), wired)


@click.command()
@click.argument("target", metavar="APP | build | run")
@click.argument("task", required=False)
@click.option("--follow", "-f", is_flag=True, help="APP: keep printing new lines until Ctrl-C.")
@click.option("--since", default="10m", show_default=True, metavar="DURATION",
              help="APP: start this far back, like 1h.")
@common_options
def logs(target: str, task: str | None, follow: bool, since: str) -> int:
    """An app's log lines, or a detached build followed to its result.

    `dockyard logs APP [--since 10m] [--follow]` prints what APP's tasks wrote (each line
    prefixed with the task that wrote it). `dockyard logs build TASK` streams the kaniko
    log of a build started with --detach until the task stops, then reports the result as
    `build` does; `dockyard logs run TASK` does the same for `dockyard run --detach`, and exits
    with the command's exit code.
    """
    if target == "build" and task is not None:
        from dockyard.rules import TASK_REF, shown

        if not TASK_REF.match(task):
            raise UsageError(f"TASK {shown(task)}: not an ECS task ARN or task id",
                             hint="use what `dockyard build --detach` printed")
        wired = wiring()
        return _report(_builder(wired).reattach(task), wired)
    if target == "run" and task is not None:
        from dockyard.cli.run import follow_run
        from dockyard.rules import TASK_REF, shown

        if not TASK_REF.match(task):
            raise UsageError(f"TASK {shown(task)}: not an ECS task ARN or task id",
                             hint="use what `dockyard run --detach` printed")
        return follow_run(wiring(), task)
    if target == "build" and "build" not in wiring().cfg.apps:  # an app may be called build
        raise UsageError("`dockyard logs build` needs the TASK that `build --detach` printed")
    if task is not None:
        raise UsageError(f"unexpected argument {task!r}: only `dockyard logs build TASK` "
                         "takes a second argument")
    from dockyard.cli.deploy import app_logs

    return app_logs(wiring(), target, since, follow)


def _list_context(context: str, dockerfile: str, console: Console, output: str) -> int:
    import tempfile

    from dockyard.builds.context import iter_listing
    from dockyard.builds.sources import listing_for

    with tempfile.TemporaryDirectory(prefix="dockyard-context-") as tmp:
        listing, _, _ = listing_for(context, dockerfile, Path(tmp))
        if output == "json":
            console.json({"entries": [
                {"path": e.path, "kind": e.kind, "size": e.size,
                 **({"target": e.target} if e.kind == "symlink" else {})}
                for e in listing.entries],
                "total_bytes": listing.total_bytes, "excluded": listing.excluded,
                "warnings": list(listing.warnings)})
        else:
            for line in iter_listing(listing):
                console.data(line)
        for warning in listing.warnings:
            console.note(f"warning: {warning}")
    return ExitCode.OK


def _save_context(context: str, dockerfile: str, path: Path, wired: Wiring) -> int:
    import os
    import tempfile

    from dockyard.builds.context import pack
    from dockyard.builds.sources import kind_of, listing_for

    if kind_of(context) == "s3":
        raise UsageError(f"CONTEXT {context}: an S3 archive is sent as it is; nothing to save")
    if path.is_dir():
        raise UsageError(f"--save-context {path}: is a folder; name the file to write")
    if not path.parent.is_dir():
        raise UsageError(f"--save-context {path}: the folder {path.parent} does not exist")
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    with tempfile.TemporaryDirectory(prefix="dockyard-context-") as tmp:
        listing, _, _ = listing_for(context, dockerfile, Path(tmp))
        for warning in listing.warnings:
            wired.console.note(f"warning: {warning}")
        try:
            with open(partial, "wb") as out:
                digest, tar_bytes = pack(listing, out)
            partial.replace(path)
        except OSError as err:
            raise DockyardError(f"--save-context {path}: cannot write it: "
                                f"{err.strerror or err}") from None
        finally:
            partial.unlink(missing_ok=True)
    from dockyard.builds.context import context_key, s3_checksum

    # Under its owner's prefix: contexts/apps/<app>/, contexts/untrusted/ (dockyard.trust).
    key, size = context_key("contexts/<owner>/", digest), path.stat().st_size
    wired.result({"path": str(path), "key": key, "tar_sha256": digest, "tar_bytes": tar_bytes,
                  "gz_bytes": size, "s3_checksum": s3_checksum(path)},
                 f"{path}: {size:,} bytes (tar {tar_bytes:,} bytes); a build uploads it as {key}")
    return ExitCode.OK


def _builder(wired: Wiring) -> Builder:
    from dockyard.builds.builder import Builder

    return Builder(wired.cfg, wired.build_clients, wired.clock, wired.progress, wired.acting)


def _detached(started: Detached, wired: Wiring) -> int:
    from dockyard.names import build_log_stream

    wired.result({"build_id": started.build_id, "task_arns": [t.arn for t in started.tasks],
                  "log_group": started.log_group,
                  "log_streams": [build_log_stream(t.task_id) for t in started.tasks]},
                 "\n".join(t.arn for t in started.tasks))
    wired.console.note("follow it with: dockyard logs build " + started.tasks[0].task_id)
    return ExitCode.OK


_FAILURES: dict[int, str] = {
    ExitCode.CANCELLED: "the build was cancelled", ExitCode.TIMEOUT: "the build timed out",
    ExitCode.TASK_FAILED_TO_START: "the build task did not run",
    ExitCode.SPOT_INTERRUPTED: "the build was interrupted"}


def _report(result: BuildResult, wired: Wiring) -> int:
    from dockyard.ui.build import result_document

    console = wired.console
    if result.exit_code == ExitCode.OK and result.ref:
        wired.progress.note("build", f"built {result.ref.rsplit('/', 1)[-1]}")
    wired.result(result_document(result), result.ref)
    if result.exit_code == ExitCode.OK:
        return ExitCode.OK
    failed = next((o for o in result.outcomes if o.last_lines), None)
    if failed is not None:
        console.note("last log lines:")
        for line in failed.last_lines[-10:]:
            console.note("  " + line)
    what = _FAILURES.get(result.exit_code, "the build failed")
    raise DockyardError(f"{what}: {result.error}", exit_code=result.exit_code)
