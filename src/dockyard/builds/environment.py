"""From dockyard.yml, the command line and the builder stack to a build that can run."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dockyard.aws.cloudformation import CloudFormation
from dockyard.aws.ecs import TaskSpec
from dockyard.aws.errors import AwsPreconditionError
from dockyard.builds.request import (
    ArchRun,
    BuildRequest,
    Destination,
    check_request,
    parse_platforms,
)
from dockyard.builds.runner import Build, BuildEnvironment, BuildResult
from dockyard.builds.sources import Source
from dockyard.config.models import Config
from dockyard.errors import DockyardError, UsageError
from dockyard.names import KANIKO_CONTAINER, Out, registry_host
from dockyard.rules import names_registry, parse_duration
from dockyard.templates.builder import repository_names

if TYPE_CHECKING:
    from dockyard.aws.session import AwsSession
    from dockyard.polling import Clock


def environment_from_stack(aws: AwsSession, cfg: Config) -> BuildEnvironment:
    """Read where builds run from the builder stack's outputs (one DescribeStacks)."""
    stack = CloudFormation(aws.client("cloudformation")).describe(cfg.stack_name("builder"))
    if stack is None or not stack.outputs.get(Out.CLUSTER_ARN):
        raise AwsPreconditionError(f"{cfg.stack_name('builder')} is not deployed in "
                                   f"{cfg.region}", hint="run: dockyard up --only builder")
    return environment_from_outputs(stack.outputs, cfg)


def environment_from_outputs(out: dict[str, str], cfg: Config) -> BuildEnvironment:
    """Where builds run, from the builder stack's outputs."""
    account = out[Out.CLUSTER_ARN].split(":")[4]
    definitions = {key.removeprefix(Out.TASK_DEFINITION).lower(): value
                   for key, value in out.items() if key.startswith(Out.TASK_DEFINITION)}
    return BuildEnvironment(
        cluster=out[Out.CLUSTER_ARN], subnets=[s for s in out.get(Out.SUBNETS, "").split(",") if s],
        security_group=out[Out.BUILD_SECURITY_GROUP_ID],
        assign_public_ip=out.get(Out.ASSIGN_PUBLIC_IP, "ENABLED") == "ENABLED",
        task_definitions=definitions, bucket=out[Out.CONTEXT_BUCKET],
        log_group=out[Out.BUILD_LOG_GROUP],
        registry=registry_host(account, cfg.region), project=cfg.name)


def destination_for(cfg: Config, repository: str, registry: str) -> Destination:
    """``web`` -> the platform's ECR repository acme/web; ``docker.io/you/app`` stays itself."""
    if names_registry(repository):
        if not cfg.builder.registry_auth_secret:
            raise UsageError(f"--repo {repository}: pushing outside ECR needs credentials",
                             hint="set builder.registry_auth_secret to a Secrets Manager secret "
                                  "holding a Docker config JSON, then run dockyard up")
        return Destination(uri=repository, ecr_repository=None)
    name = repository if repository.startswith(f"{cfg.name}/") else f"{cfg.name}/{repository}"
    known = repository_names(cfg)
    if name not in known:
        names = ", ".join(n.split("/", 1)[1] for n in known)
        raise UsageError(f"--repo {repository}: no such repository in this platform",
                         hint=f"use one of {names}, or add an app to dockyard.yml and run up")
    return Destination(uri=f"{registry}/{name}", ecr_repository=name)


def check_destination(cfg: Config, destination: Destination, exists: Callable[[str], bool]
                      ) -> None:
    """Refuse, before anything is uploaded or started, a platform repository that is not in
    ECR yet: an app's lives in its app stack, Jenkins' in the builder stack."""
    name = destination.ecr_repository
    if name is None or exists(name):
        return
    image = name.split("/", 1)[1]
    stack = "builder" if image.startswith("jenkins-") else f"app-{image}"
    raise AwsPreconditionError(f"--repo {image}: the repository {name} does not exist yet",
                               hint=f"dockyard up --only {stack} creates it")


def make_request(cfg: Config, options: dict[str, Any], architectures: list[str]) -> BuildRequest:
    """The request from the command line, with dockyard.yml's builder defaults (the first of
    builder.architectures when no --platform is given)."""
    b = cfg.builder
    timeout = parse_duration(options["timeout"]) if options.get("timeout") \
        else b.timeout_minutes * 60
    request = BuildRequest(
        tags=tuple(options.get("tags") or ()),
        dockerfile=options.get("dockerfile") or "Dockerfile",
        build_args=tuple(options.get("build_args") or ()), target=options.get("target"),
        architectures=parse_platforms(options.get("platforms"), architectures,
                                      default=cfg.builder.architectures[0]),
        spot=b.spot if options.get("spot") is None else bool(options["spot"]),
        cpu=options.get("cpu") or b.cpu, memory=options.get("memory") or b.memory,
        storage_gib=options.get("storage_gib") or b.storage_gib,
        cache=not options.get("no_cache"), timeout_seconds=timeout)
    check_request(request)
    return request


def make_build(aws: AwsSession, env: BuildEnvironment, request: BuildRequest,
               destination: Destination, *, clock: Clock, on_line: Callable[[str], None],
               on_note: Callable[[str], None]) -> Build:
    """A build wired to AWS: ECS for the tasks, Logs, S3 for contexts and digests, ECR."""
    from dockyard.aws.ecs import Ecs
    from dockyard.aws.storage import Logs, Objects, Registry
    from dockyard.builds.task import Runner, StopSignal
    from dockyard.names import KANIKO_CONTAINER

    runner = Runner(tasks=Ecs(aws.client("ecs")), logs=Logs(aws.client("logs")), clock=clock,
                    log_group=env.log_group, container=KANIKO_CONTAINER, stop=StopSignal(),
                    on_line=on_line, on_note=on_note)
    return Build(env=env, request=request, destination=destination, runner=runner,
                 digests=Objects(aws.client("s3")), registry=Registry(aws.client("ecr")),
                 signing_expiry=aws.credentials_expire)


def with_labels(request: BuildRequest, source: Source) -> BuildRequest:
    """Stamp the OCI labels for where the image came from."""
    from dataclasses import replace

    labels = []
    if source.revision:
        labels.append(("org.opencontainers.image.revision", source.revision))
    if source.url:
        labels.append(("org.opencontainers.image.source", source.url))
    return replace(request, labels=tuple(labels))


def reattach(wiring: Any, task_ref: str) -> BuildResult:
    """Follow a detached build's task to its end and report its image."""
    from dockyard.aws.ecs import Ecs
    from dockyard.polling import Poll, WaitTimeoutError, poll_until

    env: BuildEnvironment = wiring.env
    ecs = Ecs(wiring.aws.client("ecs"))
    # A task started a moment ago may not be visible yet (DescribeTasks is eventually
    # consistent): ask a few times before saying there is none.
    try:
        task = poll_until(lambda: ecs.describe(env.cluster, task_ref),
                          lambda found: found is not None,
                          Poll("the build task to be visible", interval=2, timeout=10, first=0.5),
                          wiring.clock)
    except WaitTimeoutError:
        task = None
    if task is None or "dockyard:build" not in task.tags:
        raise DockyardError(f"no dockyard build task {task_ref} in {env.cluster}",
                            hint="ECS forgets stopped tasks after about an hour")
    arch, build_tag = task.tags["dockyard:arch"], task.tags["dockyard:tag"]
    uri = task.tags["dockyard:repository"]
    destination = Destination(uri=uri, ecr_repository=uri.split("/", 1)[1]
                              if uri.startswith(env.registry + "/") else None)
    tags = tuple(arg.split(":")[-1] for arg in task.command
                 if arg.startswith(f"--destination={uri}:") and not arg.endswith(build_tag))
    request = make_request(wiring.cfg, {"tags": tags}, [arch])
    the_build: Build = wiring.build(request, destination)
    spec = TaskSpec(cluster=env.cluster, task_definition=env.task_definitions.get(arch, ""),
                    subnets=env.subnets, security_groups=[env.security_group],
                    assign_public_ip=env.assign_public_ip,
                    capacity_provider=task.capacity_provider or "FARGATE",
                    container=KANIKO_CONTAINER, command=task.command, cpu=request.cpu,
                    memory=request.memory, storage_gib=request.storage_gib, tags=task.tags)
    outcome = the_build.runner.follow(arch, spec, task,
                                      wiring.clock.now() + request.timeout_seconds)
    result = BuildResult(build_id=task.tags["dockyard:build"], destination=destination,
                         tags=list(tags), outcomes=[outcome],
                         source=Source(kind="detached", description=task.arn, context=""),
                         log_group=env.log_group)
    run = ArchRun(arch=arch, context="", digest_url="", build_tag=build_tag)
    return the_build.finish(result, [run], wiring.started)
