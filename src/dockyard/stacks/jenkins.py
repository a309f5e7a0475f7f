"""Jenkins during ``up``: its two images built by dockyard's own builder, then the wait until
``https://jenkins.<domain>/login`` answers 200.

An image is named by its build context's content hash (tag ``ctx-<hash>``): a changed
plugins.txt, JCasC or dockyard rebuilds it and the jenkins stack rolls; an unchanged one is
found in ECR and reused, so a second ``up`` builds nothing. Reusing by tag is safe because of
who can write there: Jenkins' repositories take pushes only from the platform's own kaniko
role, which only the operator passes (pipelines' roles cannot), and their contexts live under
``contexts/platform/``, which no pipeline may write (dockyard.trust).
"""

from __future__ import annotations

import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from dockyard.aws.ecs import TaskState
from dockyard.aws.services import ServiceState, TargetState
from dockyard.builds.builder import BuildClients, make_build
from dockyard.builds.cache import ContextCache
from dockyard.builds.environment import environment_from_outputs
from dockyard.builds.request import BuildRequest, Destination, new_build_id
from dockyard.builds.runner import Build, BuildEnvironment, BuildResult
from dockyard.builds.sources import Source, prepare
from dockyard.config.models import Config
from dockyard.errors import DockyardError, ExitCode
from dockyard.jenkins.contexts import write_agent_context, write_controller_context
from dockyard.polling import Clock, Poll, WaitTimeoutError, poll_until
from dockyard.progress import Progress
from dockyard.rules import url_lifetime
from dockyard.templates.jenkins import controller_log_stream

CONTEXT_TAG_LENGTH = 24


class ImageTools(Protocol):
    """What building Jenkins' images needs (wired by the CLI; faked in tests)."""

    def environment(self, builder_outputs: dict[str, str]) -> BuildEnvironment: ...
    def upload(self, folder: Path, env: BuildEnvironment) -> Source: ...
    def existing(self, repository: str, tag: str) -> str | None: ...
    def build(self, env: BuildEnvironment, request: BuildRequest,
              destination: Destination) -> Build: ...


@dataclass
class JenkinsImages:
    """Builds (or finds) the agent and controller images for a jenkins stack deploy."""

    cfg: Config
    tools: ImageTools
    clock: Clock
    progress: Progress
    built: dict[str, str] = field(default_factory=dict)

    def images(self, outputs: dict[str, dict[str, str]]) -> dict[str, str]:
        """Image references by name (``jenkins-controller``), built once per run."""
        if self.built:
            return self.built
        env = self.tools.environment(outputs["builder"])
        agent = self._ensure(env, "jenkins-agent", write_agent_context)
        controller = self._ensure(
            env, "jenkins-controller", lambda folder: write_controller_context(self.cfg, folder))
        self.built = {"jenkins-agent": agent, "jenkins-controller": controller}
        return self.built

    def _ensure(self, env: BuildEnvironment, image: str,
                write: Callable[[Path], Path]) -> str:
        repository = f"{self.cfg.name}/{image}"
        destination = Destination(uri=f"{env.registry}/{repository}", ecr_repository=repository)
        with tempfile.TemporaryDirectory(prefix=f"dockyard-{image}-") as tmp:
            source = self.tools.upload(write(Path(tmp) / "context"), env)
        tag = "ctx-" + source.context.rsplit("/", 1)[-1][:CONTEXT_TAG_LENGTH]
        digest = self.tools.existing(repository, tag)
        if digest is not None:
            self.progress.note("jenkins", f"{image}: unchanged, using {tag} ({digest[:19]})")
            return f"{destination.uri}@{digest}"
        self.progress.note("jenkins", f"{image}: building {tag} with kaniko on Fargate")
        b = self.cfg.builder
        # Built for the architecture the controller and agents run on, whatever apps use.
        request = BuildRequest(tags=(tag,), architectures=(self.cfg.jenkins.architecture,),
                               spot=b.spot, cpu=b.cpu, memory=b.memory,
                               storage_gib=b.storage_gib, timeout_seconds=b.timeout_minutes * 60)
        result = self.tools.build(env, request, destination).run(new_build_id(), source,
                                                                 self.clock.now())
        return _built_ref(image, result)


def _built_ref(image: str, result: BuildResult) -> str:
    if result.ref is None:
        failed = next((o for o in result.outcomes if o.last_lines), None)
        tail = "; ".join(failed.last_lines[-3:]) if failed else ""
        raise DockyardError(f"building the {image} image failed: {result.error}",
                            hint=tail or None, exit_code=result.exit_code)
    return result.ref


# -- waiting for Jenkins --------------------------------------------------------------------------

class ControllerServiceApi(Protocol):
    """ECS service calls (``dockyard.aws.ecs.Services``, or a fake)."""

    def describe(self, cluster: str, name: str) -> ServiceState | None: ...
    def stopped_tasks(self, cluster: str, service: str, limit: int = 3) -> list[TaskState]: ...
    def service_tasks(self, cluster: str, service: str, status: str,
                      limit: int = 10) -> list[TaskState]: ...


class TargetHealthApi(Protocol):
    """The load balancer's health of a target group (``dockyard.aws.services.TargetHealth``)."""

    def targets(self, target_group_arn: str) -> list[TargetState]: ...


class LastLines(Protocol):
    """The newest log lines of a group (``dockyard.aws.storage.Logs``, or a fake)."""

    def last_lines(self, group: str, count: int = 20,
                   stream: str | None = None) -> tuple[str, list[str]]: ...


def controller_stream(services: ControllerServiceApi, cluster: str, service: str) -> str | None:
    """The log stream of the controller's newest task (running, else last stopped), named from
    the task's id; None when ECS lists no task (it forgets stopped ones after about an hour)."""
    for status in ("RUNNING", "STOPPED"):
        tasks = services.service_tasks(cluster, service, status, limit=1)
        if tasks:
            return controller_log_stream(tasks[0].task_id)
    return None


Probe = Callable[[str], int | None]

WAIT = Poll("Jenkins to answer on /login", interval=10, timeout=1500)


def http_status(url: str) -> int | None:
    """The HTTP status of a GET (None when nothing answers)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as err:
        return int(err.code)
    except (urllib.error.URLError, OSError):
        return None


@dataclass
class JenkinsWait:
    """Waits for the controller to answer, saying why it is still waiting: the answer from
    /login, the service's events, the load balancer's verdict on each target (with its reason),
    tasks that stopped (with theirs) and the controller's newest log lines. Each is said once,
    and again only when it changes."""

    services: ControllerServiceApi
    logs: LastLines
    clock: Clock
    progress: Progress
    probe: Probe = http_status
    poll: Poll = WAIT
    targets: TargetHealthApi | None = None

    def wait(self, url: str, cluster: str, service: str, log_group: str,
             target_group: str = "") -> None:
        """Return once ``url``login answers 200; raise with the evidence when it does not."""
        said = _Said(self.progress)
        self.progress.note("jenkins", f"waiting for {url}login to answer 200 (a cold Jenkins "
                                      "takes a few minutes)")

        def fetch() -> int | None:
            status = self.probe(url + "login")
            state = self.services.describe(cluster, service)
            if state is not None:
                for event in reversed(state.events[:5]):
                    said.once(f"event {event.event_id}", f"jenkins service: {event.message}")
                if state.rollout_state == "FAILED":
                    raise self._failure(cluster, service, log_group,
                                        f"the deployment failed: {state.rollout_reason}")
            said.when_changed("status", f"/login answered {status or 'nothing yet'}" + (
                f"; {state.running} running, {state.pending} pending" if state else ""))
            if status != 200:
                self._why(said, cluster, service, log_group, target_group)
            return status

        try:
            poll_until(fetch, lambda status: status == 200, self.poll, self.clock)
        except WaitTimeoutError:
            raise self._failure(cluster, service, log_group,
                                f"no 200 from {url}login within "
                                f"{_span(self.poll.timeout)}") from None
        self.progress.note("jenkins", f"Jenkins is up at {url}")

    def _why(self, said: _Said, cluster: str, service: str, log_group: str,
             target_group: str) -> None:
        """What the load balancer, ECS and the controller's log say while /login does not."""
        if self.targets is not None and target_group:
            for target in self.targets.targets(target_group):
                reason = f": {target.reason}" if target.reason else ""
                detail = f" ({target.description})" if target.description else ""
                said.when_changed(f"target {target.target}",
                                  f"target {target.target} is {target.state}{reason}{detail}")
        for task in self.services.stopped_tasks(cluster, service):
            if task.stopped_reason:
                said.once(f"stopped {task.arn}",
                          f"task {task.task_id} stopped: {task.stopped_reason}")
        stream = controller_stream(self.services, cluster, service)
        if stream is not None:
            _, lines = self.logs.last_lines(log_group, 3, stream)
            for line in lines:
                said.once(f"line {stream} {line}", f"{stream}: {line}")

    def _failure(self, cluster: str, service: str, log_group: str, what: str) -> DockyardError:
        stopped = self.services.stopped_tasks(cluster, service)
        reasons = [f"{t.task_id}: {t.stopped_reason}" for t in stopped if t.stopped_reason]
        # The newest stopped task is the one that failed; its stream is named after it.
        stream, lines = self.logs.last_lines(
            log_group, 15, controller_log_stream(stopped[0].task_id) if stopped else None)
        details = [*(f"stopped task {r}" for r in reasons),
                   *([f"last lines of {stream}:"] + [f"  {line}" for line in lines] if lines
                     else [])]
        for line in details:
            self.progress.note("jenkins", line)
        return JenkinsNotReadyError(f"Jenkins is not answering: {what}",
                                    hint="`dockyard jenkins logs` shows the controller's log")


def _span(seconds: float) -> str:
    return f"{seconds / 60:.0f} minutes" if seconds >= 120 else f"{seconds:.0f} s"


@dataclass
class _Said:
    """What the wait has said, so each thing is said once (or again only when it changed)."""

    progress: Progress
    _last: dict[str, str] = field(default_factory=dict)

    def once(self, key: str, text: str) -> None:
        if key not in self._last:
            self._last[key] = text
            self.progress.note("jenkins", text)

    def when_changed(self, key: str, text: str) -> None:
        if self._last.get(key) != text:
            self._last[key] = text
            self.progress.note("jenkins", text)


class JenkinsNotReadyError(DockyardError):
    """The controller did not come up in time, or its deployment failed."""

    exit_code = ExitCode.FAILED


@dataclass
class AwsImageTools:
    """ImageTools on a real (or emulated) account."""

    clients: BuildClients
    cfg: Config
    clock: Clock
    progress: Progress

    def environment(self, builder_outputs: dict[str, str]) -> BuildEnvironment:
        """Where builds run."""
        return environment_from_outputs(builder_outputs, self.cfg)

    def upload(self, folder: Path, env: BuildEnvironment) -> Source:
        """Pack and upload a context (nothing is uploaded when the bucket has it)."""
        return prepare(str(folder), "Dockerfile", self.clients.objects, bucket=env.bucket,
                       prefix=env.context_prefix,
                       url_seconds=url_lifetime(self.cfg.builder.timeout_minutes * 60),
                       progress=self.progress, cache=ContextCache())

    def existing(self, repository: str, tag: str) -> str | None:
        """The digest ECR has under ``tag``, if any."""
        return self.clients.registry.digest_of(repository, tag)

    def build(self, env: BuildEnvironment, request: BuildRequest,
              destination: Destination) -> Build:
        """A build of one image on the builder."""
        return make_build(self.clients, env, request, destination, clock=self.clock,
                          progress=self.progress, subject=destination.uri.rsplit("/", 1)[-1])
