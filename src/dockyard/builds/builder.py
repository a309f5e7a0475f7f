"""The build use case, from the command line to a result: where builds run (the builder
stack), the request and its destination, the context uploaded, the tasks started, followed or
reattached to, and the image read back. The CLI parses and renders; this sequences."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from dockyard.aws.cloudformation import StackReader
from dockyard.aws.ecs import Ecs, TaskSpec, TaskState
from dockyard.aws.errors import AwsPreconditionError
from dockyard.aws.storage import Logs, Objects, Registry
from dockyard.builds.cache import ContextCache
from dockyard.builds.environment import (
    check_destination,
    check_tags,
    destination_for,
    environment_from_outputs,
    make_request,
    owner_of,
    with_labels,
)
from dockyard.builds.request import (
    ArchRun,
    BuildOptions,
    BuildRequest,
    Destination,
    new_build_id,
)
from dockyard.builds.reuse import Reuse, inputs_of
from dockyard.builds.runner import Build, BuildEnvironment, BuildResult
from dockyard.builds.sources import Source, prepare
from dockyard.builds.task import Runner, StopSignal
from dockyard.config.models import Config
from dockyard.errors import DockyardError
from dockyard.names import APP_TAG, KANIKO_CONTAINER, Out
from dockyard.polling import Clock, Poll, WaitTimeoutError, poll_until
from dockyard.progress import Progress
from dockyard.rules import url_lifetime
from dockyard.trust import PLATFORM, UNTRUSTED, Acting


@dataclass(frozen=True)
class BuildClients:
    """What a build needs from AWS, made once per command by the CLI's wiring."""

    stacks: StackReader
    tasks: Ecs
    logs: Logs
    objects: Objects
    registry: Registry
    # When the credentials that sign URLs expire (None: not known, or long-lived).
    signing_expiry: Callable[[], datetime | None] = lambda: None


def builder_outputs(stacks: StackReader, cfg: Config) -> dict[str, str]:
    """The builder stack's outputs (one DescribeStacks); refused when it is not deployed."""
    stack = stacks.describe(cfg.stack_name("builder"))
    if stack is None or not stack.outputs.get(Out.CLUSTER_ARN):
        raise AwsPreconditionError(f"{cfg.stack_name('builder')} is not deployed in "
                                   f"{cfg.region}", hint="run: dockyard up --only builder")
    return stack.outputs


def environment_from_stack(stacks: StackReader, cfg: Config,
                           owner: str = PLATFORM) -> BuildEnvironment:
    """Where ``owner``'s builds run, from the builder stack's outputs."""
    return environment_from_outputs(builder_outputs(stacks, cfg), cfg, owner)


def make_build(clients: BuildClients, env: BuildEnvironment, request: BuildRequest,
               destination: Destination, *, clock: Clock, progress: Progress,
               subject: str = "") -> Build:
    """A build wired to AWS: ECS for the tasks, Logs, S3 for contexts and digests, ECR.
    Its tasks' lines are ``subject``'s, else each architecture's when there are several."""
    runner = Runner(tasks=clients.tasks, logs=clients.logs, clock=clock,
                    log_group=env.log_group, container=KANIKO_CONTAINER, stop=StopSignal(),
                    progress=progress, subject=subject,
                    tag_lines=len(request.architectures) > 1)
    return Build(env=env, request=request, destination=destination, runner=runner,
                 digests=clients.objects, registry=clients.registry,
                 signing_expiry=clients.signing_expiry)


@dataclass
class Detached:
    """A build started with ``--detach``: its tasks, to be followed later."""

    build_id: str
    tasks: list[TaskState]
    log_group: str


@dataclass
class Builder:
    """One ``dockyard build`` (or ``logs build TASK``) on the platform's builder."""

    cfg: Config
    clients: BuildClients
    clock: Clock
    progress: Progress
    acting: Acting | None = None  # a pipeline build's tier; None for the operator
    build_id: str = field(default_factory=new_build_id)
    started: float = field(init=False)
    owner: str = PLATFORM

    def __post_init__(self) -> None:
        self.started = self.clock.now()

    @cached_property
    def outputs(self) -> dict[str, str]:
        """The builder stack's outputs (read on first use)."""
        return builder_outputs(self.clients.stacks, self.cfg)

    @property
    def env(self) -> BuildEnvironment:
        """Where this build runs, for its owner (set by :meth:`plan`)."""
        return environment_from_outputs(self.outputs, self.cfg, self.owner)

    def plan(self, repository: str, options: BuildOptions) -> tuple[BuildRequest,
                                                                      Destination]:
        """The request from the command line, and where its image goes (checked to exist)."""
        self.owner = owner_of(self.cfg, repository, self.acting)
        env = self.env
        request = make_request(self.cfg, options, list(env.task_definitions))
        destination = destination_for(self.cfg, repository, env.registry, self.owner)
        check_destination(self.cfg, destination, self.clients.registry.repository_exists)
        if self.owner == UNTRUSTED:
            self.progress.note("build", f"untrusted build: the image goes to quarantine "
                                        f"({destination.ecr_repository}), which nothing "
                                        "deploys from")
        return request, destination

    def source(self, context: str, request: BuildRequest) -> Source:
        """The context packed and uploaded (or found uploaded already), or its URL."""
        env = self.env
        return prepare(context, request.dockerfile, self.clients.objects, bucket=env.bucket,
                       prefix=env.context_prefix,
                       url_seconds=url_lifetime(request.timeout_seconds),
                       progress=self.progress, cache=ContextCache())

    def build(self, request: BuildRequest, destination: Destination) -> Build:
        """A build of ``request`` to ``destination``, ready to run."""
        return make_build(self.clients, self.env, request, destination, clock=self.clock,
                          progress=self.progress)

    def run(self, repository: str, context: str, options: BuildOptions, *,
            rebuild: bool = False) -> BuildResult:
        """Build ``context`` into ``repository`` and wait for the image; an image a trusted
        build already made from the same inputs is returned instead, unless ``rebuild``."""
        the_build, source = self._prepared(repository, context, options)
        reuse = Reuse(self.clients.objects, self.clients.registry, self.env.bucket, self.owner,
                      the_build.destination)
        inputs = inputs_of(the_build.request, source) if reuse.possible else None
        if inputs is not None and not rebuild:
            found = reuse.find(inputs)
            if found is not None:
                check_tags(self.cfg, the_build.destination, the_build.request.tags,
                           self.clients.registry.digest_of, image=found)
                return self._reused(the_build, source, reuse, found)
        check_tags(self.cfg, the_build.destination, the_build.request.tags,
                   self.clients.registry.digest_of)
        result = the_build.run(self.build_id, source, self.started)
        if inputs is not None and result.digest is not None:
            refused = reuse.remember(inputs, result.digest, self.build_id)
            if refused:
                self.progress.note("build", f"not recorded for reuse: {refused}")
        return result

    def _reused(self, the_build: Build, source: Source, reuse: Reuse,
                digest: str) -> BuildResult:
        """The result of a build that found its image: no task, the image's own digest."""
        request = the_build.request
        # Under this build's own tag too, as a built image is: the result names it.
        reuse.tag(digest, (f"build-{self.build_id}", *request.tags))
        self.progress.note("build", f"reused {digest[:19]}: a trusted build made it from these "
                                    "same inputs (context, Dockerfile, build args, target, "
                                    "platforms); no kaniko task started. --rebuild builds it "
                                    "again")
        return BuildResult(build_id=self.build_id, destination=the_build.destination,
                           tags=list(request.tags), outcomes=[], source=source,
                           log_group=self.env.log_group, digest=digest,
                           seconds=self.clock.now() - self.started,
                           digest_source="build-record")

    def detach(self, repository: str, context: str, options: BuildOptions) -> Detached:
        """Start the build's tasks and return without waiting."""
        the_build, source = self._prepared(repository, context, options)
        check_tags(self.cfg, the_build.destination, the_build.request.tags,
                   self.clients.registry.digest_of)
        runner, started = the_build.runner, []
        try:
            for _, spec in the_build.specs(self.build_id, source):
                launched = runner.start(spec)
                if launched is not None:
                    started.append(launched[0])
        except BaseException as err:  # an architecture's start failed: none is left running
            for task in started:
                runner.give_up(self.env.cluster, task.arn, err)
            raise
        return Detached(self.build_id, started, self.env.log_group)

    def _prepared(self, repository: str, context: str,
                  options: BuildOptions) -> tuple[Build, Source]:
        request, destination = self.plan(repository, options)
        source = self.source(context, request)
        return self.build(with_labels(request, source), destination), source

    def reattach(self, task_ref: str) -> BuildResult:
        """Follow a detached build's task to its end and report its image."""
        env = self.env
        # A task started a moment ago may not be visible yet (DescribeTasks is eventually
        # consistent): ask a few times before saying there is none.
        try:
            task = poll_until(lambda: self.clients.tasks.find(env.cluster, task_ref),
                              lambda found: found is not None,
                              Poll("the build task to be visible", interval=2, timeout=10,
                                   first=0.5, reads=5), self.clock)
        except WaitTimeoutError:
            task = None
        if task is None or "dockyard:build" not in task.tags:
            raise DockyardError(f"no dockyard build task {task_ref} in {env.cluster}",
                                hint="ECS forgets stopped tasks after about an hour")
        self.owner = task.tags.get(APP_TAG, PLATFORM)
        env = self.env
        arch, build_tag = task.tags["dockyard:arch"], task.tags["dockyard:tag"]
        uri = task.tags["dockyard:repository"]
        destination = Destination(uri=uri, ecr_repository=uri.split("/", 1)[1]
                                  if uri.startswith(env.registry + "/") else None)
        tags = tuple(arg.split(":")[-1] for arg in task.command
                     if arg.startswith(f"--destination={uri}:") and not arg.endswith(build_tag))
        request = make_request(self.cfg, {"tags": tags}, [arch])
        the_build = self.build(request, destination)
        spec = TaskSpec(cluster=env.cluster, task_definition=env.task_definitions.get(arch, ""),
                        subnets=env.subnets, security_groups=[env.security_group],
                        assign_public_ip=env.assign_public_ip,
                        capacity_provider=task.capacity_provider or "FARGATE",
                        container=KANIKO_CONTAINER, command=task.command, cpu=request.cpu,
                        memory=request.memory, storage_gib=request.storage_gib, tags=task.tags,
                        task_role=env.task_role)
        outcome = the_build.runner.follow(arch, spec, task,
                                          self.clock.now() + request.timeout_seconds)
        result = BuildResult(build_id=task.tags["dockyard:build"], destination=destination,
                             tags=list(tags), outcomes=[outcome],
                             source=Source(kind="detached", description=task.arn, context=""),
                             log_group=env.log_group)
        run = ArchRun(arch=arch, context="", digest_url="", build_tag=build_tag)
        return the_build.finish(result, [run], self.started)
