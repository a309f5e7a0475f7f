"""A whole build: one task per architecture in parallel, then the digest, verified, and for
several architectures an image index.

Where the digest comes from, and why: kaniko writes ``--digest-file`` *before* it pushes and
exits 1 when that write fails (kaniko ``push.go``), and a presigned URL dies with the temporary
credentials that signed it. So a digest file would make a long build fail for a reason that is
not the build's. For an ECR destination (every platform repository) there is no digest file:
the digest is what ECR holds under the build's unique tag, read after kaniko exited 0 and
checked against the ``Pushed ...@sha256:`` line kaniko logs. For another registry, where
dockyard cannot look, the digest file is the only channel: its URL is signed for the build's
timeout, and dockyard warns when the signing credentials expire sooner.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from dockyard.aws.ecs import TaskSpec, run_task_problem
from dockyard.builds.request import ArchRun, BuildRequest, Destination, kaniko_argv
from dockyard.builds.sources import Source
from dockyard.builds.task import Runner, Status, StopSignal, TaskOutcome
from dockyard.errors import DockyardError, ExitCode, UsageError
from dockyard.names import APP_TAG, KANIKO_CONTAINER, TAG_KEY
from dockyard.planning.cost import FARGATE_SPOT_DISCOUNT, task_hourly
from dockyard.rules import url_lifetime
from dockyard.trust import context_prefix, digest_prefix

_PUSHED = re.compile(r"Pushed (\S+)@(sha256:[0-9a-f]{64})")
# An index's media type follows its children's (OCI, or Docker v2 schema 2).
INDEX_TYPES = {
    "application/vnd.oci.image.manifest.v1+json": "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json":
        "application/vnd.docker.distribution.manifest.list.v2+json",
}


@dataclass(frozen=True)
class BuildEnvironment:
    """Where a build runs, from the builder stack's outputs, and for whom: its ``owner`` (an
    app, ``untrusted`` or ``platform``; dockyard.trust) decides the kaniko task definitions,
    the role kaniko pushes with, the log group, and where its context and digest files go."""

    cluster: str
    subnets: list[str]
    security_group: str
    assign_public_ip: bool
    task_definitions: dict[str, str]
    bucket: str
    log_group: str
    registry: str
    project: str
    owner: str = "platform"
    task_role: str | None = None  # passed to kaniko; None: the task definition's own
    push_cache: bool = True  # untrusted builds read the layer cache and never write it

    @property
    def context_prefix(self) -> str:
        """Where this owner's contexts live in the bucket."""
        return context_prefix(self.owner)

    @property
    def digest_prefix(self) -> str:
        """Where this owner's digest files go."""
        return digest_prefix(self.owner)


class DigestApi(Protocol):
    """Reading digests back (``dockyard.aws.storage``: Objects and Registry, or fakes)."""

    def presign_put(self, bucket: str, key: str, seconds: int) -> str: ...
    def read_text(self, bucket: str, key: str) -> str | None: ...


class RegistryApi(Protocol):
    """ECR as a build uses it."""

    def digest_of(self, repository: str, tag: str) -> str | None: ...
    def manifest(self, repository: str, digest: str) -> tuple[str, str]: ...
    def put_manifest(self, repository: str, manifest: str, media_type: str, tag: str) -> str: ...


@dataclass(frozen=True)
class PlatformImage:
    """One architecture's image."""

    platform: str
    digest: str
    task_arn: str
    capacity: str
    seconds: float


@dataclass
class BuildResult:
    """The outcome of a build: the image, or why there is none."""

    build_id: str
    destination: Destination
    tags: list[str]
    outcomes: list[TaskOutcome]
    source: Source
    log_group: str
    digest: str | None = None
    platforms: list[PlatformImage] = field(default_factory=list)
    seconds: float = 0.0
    cost_usd: float = 0.0
    error: str | None = None
    exit_code: int = ExitCode.OK
    digest_source: str = ""  # "ecr" (by the unique tag) or "digest-file"

    @property
    def ref(self) -> str | None:
        """``repository@sha256:...``: the reference to deploy."""
        return f"{self.destination.uri}@{self.digest}" if self.digest else None


def exit_code_of(outcomes: list[TaskOutcome]) -> int:
    """The CLI's exit code for a set of task endings: the most telling failure wins. A
    failed kaniko is 1 whatever its own code: kaniko exits with a failed RUN step's code
    (kaniko ``cmd/executor/cmd/root.go``, exit), so a ``RUN exit 3`` would otherwise read as
    dockyard's 3 (AWS precondition); its own code is each task's ``exit_code``."""
    by_status = {o.status: o for o in outcomes}
    for status, code in ((Status.CANCELLED, ExitCode.CANCELLED),
                         (Status.TIMED_OUT, ExitCode.TIMEOUT),
                         (Status.INFRA_FAILED, ExitCode.TASK_FAILED_TO_START),
                         (Status.SPOT_INTERRUPTED, ExitCode.SPOT_INTERRUPTED),
                         (Status.BUILD_FAILED, ExitCode.FAILED)):
        if status in by_status:
            return int(code)
    return ExitCode.OK


@dataclass
class Build:
    """Everything one build needs, wired by the CLI."""

    env: BuildEnvironment
    request: BuildRequest
    destination: Destination
    runner: Runner
    digests: DigestApi
    registry: RegistryApi
    # When the credentials that sign URLs expire (None: not known, or long-lived).
    signing_expiry: Callable[[], datetime | None] = lambda: None

    def specs(self, build_id: str, source: Source) -> list[tuple[ArchRun, TaskSpec]]:
        """The task of each architecture: kaniko's argv and RunTask's settings."""
        request, multi = self.request, len(self.request.architectures) > 1
        seconds = url_lifetime(request.timeout_seconds)
        if self.destination.ecr_repository is None:
            self._warn_if_signing_expires(request.timeout_seconds)
        planned = []
        for arch in request.architectures:
            build_tag = f"build-{build_id}" + (f"-{arch}" if multi else "")
            url = "" if self.destination.ecr_repository else self.digests.presign_put(
                self.env.bucket, f"{self.env.digest_prefix}{build_id}/{arch}", seconds)
            run = ArchRun(arch=arch, context=source.context, build_tag=build_tag,
                          digest_url=url, tags=() if multi else request.tags)
            spec = TaskSpec(
                cluster=self.env.cluster, task_definition=self.env.task_definitions[arch],
                subnets=self.env.subnets, security_groups=[self.env.security_group],
                assign_public_ip=self.env.assign_public_ip,
                capacity_provider="FARGATE_SPOT" if request.spot else "FARGATE",
                container=KANIKO_CONTAINER,
                command=kaniko_argv(request, self.destination, run,
                                    push_cache=self.env.push_cache),
                cpu=request.cpu, memory=request.memory, storage_gib=request.storage_gib,
                tags={TAG_KEY: self.env.project, APP_TAG: self.env.owner,
                      "dockyard:build": build_id, "dockyard:arch": arch,
                      "dockyard:repository": self.destination.uri, "dockyard:tag": build_tag},
                task_role=self.env.task_role)
            problem = run_task_problem(spec)
            if problem is not None:
                raise UsageError(f"the kaniko task of {arch}: {problem}",
                                 hint="use fewer or shorter --build-arg and --tag values")
            planned.append((run, spec))
        return planned

    def _warn_if_signing_expires(self, timeout_seconds: int) -> None:
        expiry = self.signing_expiry()
        if expiry is None:
            return
        left = (expiry - datetime.now(UTC)).total_seconds()
        if left < timeout_seconds:
            self.runner.progress.note(
                "build",
                f"warning: the credentials signing the digest URL expire in {left / 60:.0f} "
                f"min, before the build's timeout ({timeout_seconds / 60:.0f} min): a build "
                "that runs longer cannot write its digest, and kaniko then fails it. Use "
                "longer-lived credentials or a shorter --timeout")

    def run(self, build_id: str, source: Source, started: float) -> BuildResult:
        """Run every architecture's task in parallel and collect the result."""
        planned = self.specs(build_id, source)
        timeout = float(self.request.timeout_seconds)
        jobs = [functools.partial(self.runner.run, run.arch, spec, timeout)
                for run, spec in planned]
        outcomes = run_parallel(jobs, self.runner.stop)
        result = BuildResult(build_id=build_id, destination=self.destination,
                             tags=list(self.request.tags), outcomes=outcomes, source=source,
                             log_group=self.env.log_group)
        return self.finish(result, [run for run, _ in planned], started)

    def finish(self, result: BuildResult, runs: list[ArchRun], started: float) -> BuildResult:
        """Turn task outcomes into an image: digests read, verified, indexed."""
        result.seconds = self.runner.clock.now() - started
        result.cost_usd = estimate_cost(self.request, result.outcomes)
        result.exit_code = exit_code_of(result.outcomes)
        if result.exit_code != ExitCode.OK:
            failed = next(o for o in result.outcomes if o.status != Status.SUCCEEDED)
            detail = "; ".join(part for part in (
                f"kaniko exited {failed.exit_code}" if failed.exit_code is not None else "",
                failed.reason) if part)
            result.error = f"{failed.arch}: {failed.status}" + (f" ({detail})" if detail else "")
            return result
        result.digest_source = "ecr" if self.destination.ecr_repository else "digest-file"
        for run, outcome in zip(runs, result.outcomes, strict=True):
            digest = self._verified_digest(result.build_id, run, outcome)
            result.platforms.append(PlatformImage(f"linux/{run.arch}", digest, outcome.task_arn,
                                                  outcome.capacity, outcome.seconds))
        if len(runs) == 1:
            result.digest = result.platforms[0].digest
        else:
            result.digest = self._push_index(result)
        return result

    def _verified_digest(self, build_id: str, run: ArchRun, outcome: TaskOutcome) -> str:
        repository = self.destination.ecr_repository
        logged = {m[2] for line in outcome.last_lines
                  if (m := _PUSHED.search(line)) and m[1] == self.destination.uri}
        if repository is not None:
            digest = self.registry.digest_of(repository, run.build_tag) or ""
            if not digest:
                raise DockyardError(f"{run.arch}: kaniko exited 0 but ECR has no image under "
                                    f"{run.build_tag}", hint="the build log above says what "
                                                             "kaniko pushed")
        else:
            text = self.digests.read_text(self.env.bucket,
                                          f"{self.env.digest_prefix}{build_id}/{run.arch}")
            digest = (text or "").strip()
            if not digest.startswith("sha256:"):
                raise DockyardError(f"{run.arch}: kaniko exited 0 but left no digest file",
                                    hint="the presigned digest URL may have expired with the "
                                         "credentials that signed it; see the log")
        if logged and digest not in logged:
            raise DockyardError(f"{run.arch}: kaniko logged {', '.join(sorted(logged))} but "
                                f"{'ECR has' if repository else 'the digest file says'} "
                                f"{digest}")
        return digest

    def _push_index(self, result: BuildResult) -> str:
        repository = self.destination.ecr_repository
        if repository is None:
            raise DockyardError("multi-architecture images need an ECR repository")
        manifests = []
        for image in result.platforms:
            text, media_type = self.registry.manifest(repository, image.digest)
            manifests.append({"mediaType": media_type, "size": len(text.encode()),
                              "digest": image.digest, "platform": {
                                  "architecture": image.platform.split("/")[1], "os": "linux"}})
        index_type = INDEX_TYPES.get(str(manifests[0]["mediaType"]),
                                     "application/vnd.oci.image.index.v1+json")
        index = json.dumps({"schemaVersion": 2, "mediaType": index_type,
                            "manifests": manifests}, separators=(",", ":"))
        digest = ""
        for tag in (f"build-{result.build_id}", *self.request.tags):
            digest = self.registry.put_manifest(repository, index, index_type, tag)
        return digest


def run_parallel(jobs: Sequence[Callable[[], TaskOutcome]], stop: StopSignal) -> list[TaskOutcome]:
    """Run each architecture's task in its own thread and wait for all of them.

    A Ctrl-C asks every task to stop and keeps waiting (each task bounds its own wait after
    the stop); a second Ctrl-C gives up at once, stopping first every task started and not
    yet followed to its end (StopSignal.abandon). The threads are daemons, so giving up does
    not wait for them.
    """
    results: list[TaskOutcome | BaseException | None] = [None] * len(jobs)
    finished = threading.Semaphore(0)

    def work(index: int) -> None:
        try:
            results[index] = jobs[index]()
        except BaseException as err:  # carried to the main thread and raised there
            results[index] = err
        finally:
            finished.release()

    try:
        for index in range(len(jobs)):
            threading.Thread(target=work, args=(index,), name=f"dockyard-build-{index}",
                             daemon=True).start()
        _wait(len(jobs), finished, stop)
    except BaseException:
        # Giving up without waiting (a second Ctrl-C, or a signal while the threads were
        # starting): the daemon threads die with the process, so what they started is
        # stopped here first, and nothing more starts.
        stop.abandon()
        raise
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return [r for r in results if isinstance(r, TaskOutcome)]


def _wait(jobs: int, finished: threading.Semaphore, stop: StopSignal) -> None:
    # Waiting on a semaphore, not Thread.join: a join interrupted by Ctrl-C can leave the
    # thread looking finished when it is not (CPython 3.11).
    remaining, interrupted = jobs, False
    while remaining:
        try:
            if finished.acquire(timeout=0.2):
                remaining -= 1
        except KeyboardInterrupt:
            if interrupted:
                raise
            interrupted = True
            stop.request("cancelled")


def estimate_cost(request: BuildRequest, outcomes: list[TaskOutcome]) -> float:
    """What the tasks cost at list prices (billed per second, one minute at least)."""
    total = 0.0
    for outcome in outcomes:
        hourly = task_hourly(request.cpu, request.memory, request.storage_gib, outcome.arch)
        if outcome.capacity == "FARGATE_SPOT":
            hourly *= 1 - FARGATE_SPOT_DISCOUNT
        total += hourly * max(outcome.seconds, 60) / 3600
    return round(total, 4)
