"""Plays kaniko's part in an emulated account, where no container ever runs.

moto's ECS starts no containers. For every dockyard build task that appears, this player does
what the kaniko executor (osscontainertools fork, v1.28) would do, in kaniko's order and with
the task's own credentials, so that a wrong permission or URL fails here as it would on AWS:

1. fetch the build context with the task role (``s3://`` through S3 GetObject as kaniko's AWS
   SDK does, ``https://`` with a plain GET), and find the Dockerfile in it; a refusal ends
   the build with exit 1 (kaniko ``buildcontext/s3.go``, ``https.go``);
2. write log lines to the task's stream with the execution role, as the awslogs driver does;
3. with ``--digest-file=https://...``, PUT the digest *before* pushing; any HTTP status of 400
   or more, or no answer, ends the build with exit 1 and no image (kaniko
   ``executor/push.go``: writeDigestFile, then the pushes);
4. push the manifest to each ECR destination (and a layer to the cache repository) with the
   task role; a refused push ends the build with exit 1;
5. exit; the task stays RUNNING while this "container" runs and stops after it.

Knobs: ``--build-arg FAKE_KANIKO_FAIL=<code>`` fails the build with that code,
``--build-arg FAKE_KANIKO_SECONDS=<n>`` makes it take n seconds; ``fail_for`` fails builds
pushing to a repository. ``--build-arg FAKE_APP_CVE=1`` gives the image a critical finding in
ECR's scan (devtools/scans.py). ``--build-arg FAKE_APP_CRASH=1`` / ``FAKE_APP_HANG=1`` mark
the image for the ECS emulator (devtools/ecs), as ``marks_for`` does for every image of a
repository.

It runs in the emulator's process (``python -m devtools.moto_server --kaniko``, or the tests'
account), where it sees ECS's tasks as the container runtime does.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import tarfile
import threading
import time
from typing import Any, Protocol

import boto3
import requests
from botocore.exceptions import BotoCoreError, ClientError

from devtools.ecs.clock import CLOCK

REGION = "ap-southeast-2"
HOLD = -(10**9)  # moto's manual task progression never reaches this many describes


class World(Protocol):
    """How the player reaches the account: AWS clients and HTTP, as a given role."""

    def client(self, service: str, session: Any = None) -> Any: ...
    def http(self) -> requests.Session: ...
    def session(self, role_arn: str) -> Any: ...


class Endpoint:
    """A lenient world: moto at ``endpoint`` (or moto in-process when None), one identity."""

    def __init__(self, endpoint: str | None, region: str = REGION) -> None:
        self.endpoint, self.region = endpoint, region

    def client(self, service: str, session: Any = None) -> Any:
        keys = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"} \
            if self.endpoint else {}
        return boto3.client(service, region_name=self.region, endpoint_url=self.endpoint,
                            **keys)

    def http(self) -> requests.Session:
        return requests.Session()

    def session(self, role_arn: str) -> Any:
        return None


class KanikoError(Exception):
    """The build ends: kaniko's last log line and its exit code."""

    def __init__(self, line: str, code: int = 1) -> None:
        super().__init__(line)
        self.line, self.code = line, code


def _arg(command: list[str], name: str) -> list[str]:
    prefix = f"--{name}="
    return [a[len(prefix):] for a in command if a.startswith(prefix)]


def _build_arg(command: list[str], name: str) -> str | None:
    return next((a.split("=", 1)[1] for a in _arg(command, "build-arg")
                 if a.startswith(name + "=")), None)


def manifest_for(command: list[str], extra: tuple[str, ...] = (),
                 lacking: frozenset[str] = frozenset()) -> str:
    """A small OCI manifest that depends on what was asked (so different builds differ), with
    the commands its image lacks (devtools/images.py)."""
    from devtools.ecs import CRASH, HANG
    from devtools.scans import CRITICAL_CVE

    build_args = _arg(command, "build-arg")
    # Marks the ECS emulator reads (an app built with these never becomes healthy), and the
    # one ECR's emulated scan reads (devtools/scans.py).
    marks = [mark for arg, mark in (("FAKE_APP_CRASH=", CRASH), ("FAKE_APP_HANG=", HANG),
                                    ("FAKE_APP_CVE=", CRITICAL_CVE))
             if any(a.startswith(arg) for a in build_args)]
    return image_manifest(json.dumps(command[1:3] + build_args), [*marks, *extra], lacking)


def image_manifest(seed: str, marks: list[str] | tuple[str, ...] = (),
                   lacking: frozenset[str] = frozenset()) -> str:
    """An OCI manifest whose one layer follows ``seed`` (another seed, another image), with
    ``marks`` as annotations (see devtools/ecs) and the commands the image lacks."""
    from devtools.images import LACKS

    annotations = {**dict.fromkeys(marks, "true"),
                   **({LACKS: " ".join(sorted(lacking))} if lacking else {})}
    layer = "sha256:" + hashlib.sha256(seed.encode()).hexdigest()
    return json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2,
                   "digest": "sha256:" + hashlib.sha256(b"{}").hexdigest()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "size": 1,
                    "digest": layer}],
        **({"annotations": annotations} if annotations else {})})


class FakeKaniko:
    """Acts for each new build task (of ``cluster``, or of every cluster when None: a project
    of any name), each in its own thread."""

    def __init__(self, world: World | str | None, cluster: str | None = None,
                 region: str = REGION) -> None:
        self.world: World = world if not isinstance(world, str | None) else \
            Endpoint(world, region)
        self.cluster, self.region = cluster, region
        self.seen: set[str] = set()
        self.handled: list[dict[str, Any]] = []
        # Repository (``acme/web``) -> the exit code builds pushing to it fail with.
        self.fail_for: dict[str, int] = {}
        # What a failing RUN step of that repository's build prints (the boot check's lines).
        self.fail_lines: dict[str, list[str]] = {}
        # Repository -> marks (devtools.ecs.CRASH, HANG) its images get: how they behave when run.
        self.marks_for: dict[str, tuple[str, ...]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # -- the container runtime's view (moto's models in this process) -----------------------------

    def _backend(self) -> Any:
        from moto.core.models import DEFAULT_ACCOUNT_ID
        from moto.ecs.models import ecs_backends

        return ecs_backends[DEFAULT_ACCOUNT_ID][self.region]

    def _tasks(self) -> list[Any]:
        """The tasks of the cluster watched (of every cluster when none is named)."""
        tasks = self._backend().tasks
        clusters = [self.cluster] if self.cluster else list(tasks)
        return [task for name in clusters for task in list(tasks.get(name, {}).values())]

    def _new_tasks(self, tag: str) -> list[Any]:
        tasks = self._tasks()
        fresh = []
        for task in tasks:
            tags = {t["key"]: t["value"] for t in task.tags}
            if task.task_arn not in self.seen and tag in tags:
                self.seen.add(task.task_arn)
                fresh.append(task)
        return fresh

    def _new_builds(self) -> list[Any]:
        return self._new_tasks("dockyard:build")

    def poll_once(self) -> None:
        """Start playing kaniko for the build tasks not seen yet, and the app's container for
        one-off tasks (``dockyard run``)."""
        for task in self._new_builds():
            task._tick = HOLD  # the container runs: the task stays RUNNING
            threading.Thread(target=self.run, args=(task,), daemon=True,
                             name=f"fake-kaniko-{task.id[:8]}").start()
        for task in self._new_tasks("dockyard:run"):
            task._tick = HOLD
            threading.Thread(target=self.run_one_off, args=(task,), daemon=True,
                             name=f"fake-run-{task.id[:8]}").start()

    # -- one one-off task (dockyard run) ----------------------------------------------------------

    def run_one_off(self, task: Any) -> None:
        """Play an app's container running a one-off command. As ECS does before the container
        starts, fetch its secrets with the execution role: a refusal stops the task with
        ResourceInitializationError and no exit code (ECS developer guide, "Specifying
        sensitive data using Secrets Manager secrets"; "Stopped tasks errors"). Then the
        command: ``sh -c "..."`` with ``echo`` and ``sleep`` steps and an ``exit N`` is played
        line by line (its echoes written to the task's log stream with the execution role, as
        the awslogs driver does); any other command logs that it ran and exits 0, or 1 with an
        error line when its image carries devtools.ecs.RUN_FAILS (a migration that fails)."""
        backend = self._backend()
        definition = backend.describe_task_definition(task.task_definition_arn)
        container = definition.container_definitions[0]
        overrides = (task.overrides.get("containerOverrides") or [{}])[0]
        command = list(overrides.get("command") or container.get("command") or [])
        role = getattr(definition, "execution_role_arn", None)
        execution = self.world.session(role) if role else None
        code: int | None = 0
        try:
            for secret in container.get("secrets", []):
                arn = ":".join(str(secret["valueFrom"]).split(":")[:7])
                try:
                    self.world.client("secretsmanager", execution).get_secret_value(SecretId=arn)
                except ClientError as err:
                    task.stopped_reason = (
                        "ResourceInitializationError: unable to pull secrets or registry auth: "
                        f"retrieving secret from asm: {_code(err)} for {secret['name']}")
                    code = None
                    return
            logger = _Log(self.world, definition, task.id)
            from devtools.ecs import RUN_FAILS, image_marks
            from devtools.ecs.common import image_lacks
            from devtools.images import missing_command

            absent = missing_command(command, image_lacks(backend, task.task_definition_arn))
            if absent is not None and command[:2] == ["sh", "-c"]:
                logger.write([f"sh: 1: {absent}: not found"])
                code = 127
                return
            if absent is not None:
                task.stopped_reason = (
                    "CannotStartContainerError: ResourceInitializationError: failed to create "
                    "new container runtime task: OCI runtime create failed: unable to start "
                    f"container process: exec: \"{absent}\": executable file not found in $PATH")
                code = None
                return
            if RUN_FAILS in image_marks(backend, task.task_definition_arn) and \
                    command[:2] != ["sh", "-c"]:
                logger.write([f"fake container: ran {' '.join(command)}",
                              "django.db.utils.ProgrammingError: relation \"articles_article\" "
                              "already exists"])
                code = 1
                return
            # A container override's environment adds to (and wins over) the definition's
            # (ECS API Reference, ContainerOverride.environment).
            env = {e["name"]: e["value"] for e in [*container.get("environment", []),
                                                   *(overrides.get("environment") or [])]}
            code = _play(command, logger, lambda: task.desired_status == "STOPPED", env)
        except Exception as err:  # a bug in the player: said in the task's stop reason
            task.stopped_reason = f"fake one-off task: {err!r}"
            code = None
        finally:
            for each in task.containers:
                each.exitCode = code
            with self._lock:
                self.handled.append({"task": task.task_arn, "command": command,
                                     "exit_code": code, "one_off": True})
            task._tick = 0

    def act_on(self, task_arn: str) -> None:
        """Play kaniko for one task now, in this thread (in-process tests)."""
        for task in self._tasks():
            if task.task_arn == task_arn:
                self.seen.add(task_arn)
                self.run(task)

    # -- one build --------------------------------------------------------------------------------

    def run(self, task: Any) -> None:
        """Do what kaniko does for ``task``, then let the task stop with its exit code."""
        backend = self._backend()
        definition = backend.describe_task_definition(task.task_definition_arn)
        overrides = (task.overrides.get("containerOverrides") or [{}])[0]
        command = list(overrides.get("command") or [])
        logger = _Log(self.world, definition, task.id)
        digest, code = None, 0
        try:
            # The task's role: RunTask's override, else the task definition's (ECS API
            # Reference, TaskOverride.taskRoleArn). With neither, kaniko has no credentials at
            # all: the AWS SDK's chain finds none on Fargate, and fetching an s3:// context fails.
            role = task.overrides.get("taskRoleArn") or getattr(definition, "task_role_arn", None)
            if not role:
                raise KanikoError("error building image: getting build context: operation error "
                                  "S3: GetObject, get identity: get credentials: failed to "
                                  "refresh cached credentials, no EC2 IMDS role found")
            kaniko = self.world.session(role)
            digest = self._build(command, kaniko, logger)
        except KanikoError as err:
            logger.write([err.line])
            code = err.code
        except Exception as err:  # a bug in the player: say so in the build's log
            logger.write([f"error building image: fake kaniko: {err!r}"])
            code = 1
        for container in task.containers:
            container.exitCode = code
        with self._lock:
            self.handled.append({"task": task.task_arn, "digest": digest, "command": command,
                                 "exit_code": code})
        task._tick = 0  # the container exited: ECS stops the task

    def _build(self, command: list[str], kaniko: Any, logger: _Log) -> str:
        context = (_arg(command, "context") or [""])[0]
        logger.write([f"INFO[0000] Retrieving image manifest from {context}"])
        dockerfile = (_arg(command, "dockerfile") or ["Dockerfile"])[0]
        files, recipe = self._context(context, kaniko, dockerfile.lstrip("./"))
        if dockerfile.lstrip("./") not in files:
            raise KanikoError("error resolving dockerfile path: please provide a valid path to "
                              "a Dockerfile within the build context with --dockerfile")
        logger.write([f"INFO[0001] Built context with {len(files)} files",
                      *(f"INFO[000{i}] Step {i}: building" for i in range(2, 5))])
        time.sleep(float(_build_arg(command, "FAKE_KANIKO_SECONDS") or 0))
        failing = _build_arg(command, "FAKE_KANIKO_FAIL")
        failing = failing or next((str(code) for d in _arg(command, "destination")
                                   for repo, code in self.fail_for.items() if f"/{repo}:" in d),
                                  None)
        if failing:
            printed = next((lines for d in _arg(command, "destination")
                            for repo, lines in self.fail_lines.items() if f"/{repo}:" in d),
                           ["INFO[0004] RUN make test"])
            logger.write(printed)
            raise KanikoError("error building image: error building stage: failed to execute "
                              "command: waiting for process to exit: exit status "
                              f"{failing}", int(failing))
        from devtools.images import lacks

        manifest = manifest_for(command, next(
            (marks for d in _arg(command, "destination")
             for repo, marks in self.marks_for.items() if f"/{repo}:" in d), ()), lacks(recipe))
        digest = "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()
        for url in _arg(command, "digest-file"):
            self._put_digest(url, digest)
        for destination in _arg(command, "destination"):
            logger.write([f"INFO[0009] Pushing image to {destination}"])
            pushed = self._push(destination, manifest, kaniko)
            logger.write([f"INFO[0010] Pushed {destination.rsplit(':', 1)[0]}@{pushed}"])
            digest = pushed
        cache = next(iter(_arg(command, "cache-repo")), None)
        if cache and ".dkr.ecr." in cache and "--cache=true" in command and \
                "--no-push-cache" not in command:
            try:
                self._push(f"{cache}:{hashlib.sha256(context.encode()).hexdigest()[:32]}",
                           image_manifest("cache:" + context), kaniko)
            except KanikoError as err:
                # kaniko build.go: a failed cache push is a warning; the build goes on.
                logger.write([f"WARN[0011] Error uploading layer to cache: {err.line}"])
        return digest

    def _context(self, context: str, kaniko: Any, dockerfile: str) -> tuple[set[str], str]:
        """The context's file names, and the text of its ``dockerfile``."""
        try:
            if context.startswith("s3://"):
                bucket, _, key = context.removeprefix("s3://").partition("/")
                data = self.world.client("s3", kaniko).get_object(
                    Bucket=bucket, Key=key)["Body"].read()
            elif context.startswith("https://"):
                answer = self.world.http().get(context, timeout=30)
                if answer.status_code >= 400:
                    raise KanikoError(f"error building image: getting build context: "
                                      f"{answer.status_code} {answer.reason}: "
                                      f"{answer.text[:200]}")
                data = answer.content
            else:
                raise KanikoError(f"error building image: unsupported context {context}")
        except ClientError as err:
            raise KanikoError(f"error building image: getting build context: operation error "
                              f"S3: GetObject, {_code(err)}") from None
        except (BotoCoreError, requests.RequestException) as err:
            raise KanikoError(f"error building image: getting build context: {err}") from None
        try:
            with tarfile.open(fileobj=io.BytesIO(gzip.decompress(data))) as archive:
                members = {m.name.lstrip("./"): m for m in archive.getmembers()}
                source = archive.extractfile(members[dockerfile]) \
                    if dockerfile in members and members[dockerfile].isfile() else None
                recipe = source.read().decode("utf-8", "replace") if source else ""
                return set(members), recipe
        except (OSError, tarfile.TarError) as err:
            raise KanikoError(f"error building image: unpacking build context: {err}") from None

    def _put_digest(self, url: str, digest: str) -> None:
        try:
            answer = self.world.http().put(url, data=digest.encode(), timeout=30,
                                           headers={"Content-Type": "text/plain"})
        except requests.RequestException as err:
            raise KanikoError(f"error pushing image: writing digest to file failed: {err}"
                              ) from None
        if answer.status_code >= 400:
            raise KanikoError("error pushing image: writing digest to file failed: request "
                              f"failed: {answer.status_code} {answer.reason}")

    def _push(self, destination: str, manifest: str, kaniko: Any) -> str:
        uri, tag = destination.rsplit(":", 1)
        if ".dkr.ecr." not in uri:  # another registry: nothing to push to here
            return "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()
        repository = uri.split("/", 1)[1]
        ecr = self.world.client("ecr", kaniko)
        try:
            ecr.get_authorization_token()
            pushed = ecr.put_image(repositoryName=repository, imageManifest=manifest,
                                   imageTag=tag)
            return str(pushed["image"]["imageId"]["imageDigest"])
        except ClientError as err:
            if _code(err) != "ImageAlreadyExistsException":
                raise KanikoError(f"error pushing image: failed to push to destination "
                                  f"{destination}: {_code(err)}") from None
        # The registry accepts the same manifest under the same tag again.
        found = ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])
        return str(found["imageDetails"][0]["imageDigest"])

    # -- watching ---------------------------------------------------------------------------------

    def start(self) -> FakeKaniko:
        """Watch in a background thread."""
        def loop() -> None:
            while not self._stop.wait(0.2):
                try:
                    self.poll_once()
                except Exception:
                    continue
        self._thread = threading.Thread(target=loop, name="fake-kaniko", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop watching."""
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)


class _Log:
    """The task's log stream, written as the awslogs driver does (execution role)."""

    def __init__(self, world: World, definition: Any, task_id: str) -> None:
        options = definition.container_definitions[0]["logConfiguration"]["options"]
        self.group = options["awslogs-group"]
        self.stream = f"{options.get('awslogs-stream-prefix', 'build')}/" \
                      f"{definition.container_definitions[0]['name']}/{task_id}"
        role = getattr(definition, "execution_role_arn", None)
        self.client = world.client("logs", world.session(role) if role else None)
        self.created = False

    def write(self, lines: list[str]) -> None:
        if not self.created:
            self.client.create_log_stream(logGroupName=self.group, logStreamName=self.stream)
            self.created = True
        now = int(time.time() * 1000)
        self.client.put_log_events(logGroupName=self.group, logStreamName=self.stream,
                                   logEvents=[{"timestamp": now + i, "message": line}
                                              for i, line in enumerate(lines)])


def _play(command: list[str], logger: _Log, stopped: Any,
          env: dict[str, str] | None = None) -> int:
    """Play ``sh -c "echo ...; sleep N; exit N"`` step by step, ``$NAME`` expanded from the
    container's environment as the shell would; other commands log and exit 0. A task
    stopped while it sleeps exits 143 (SIGTERM), as a shell does."""
    if command[:2] != ["sh", "-c"] or len(command) < 3:
        logger.write([f"fake container: ran {' '.join(command)}"])
        return 0
    values = env or {}
    for step in (part.strip() for part in command[2].split(";")):
        word, _, rest = step.partition(" ")
        if word == "echo":
            logger.write([re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?",
                                 lambda m: values.get(m.group(1), ""), rest.strip("'\""))])
        elif word == "sleep":  # seconds of ECS's time (devtools/ecs/clock.py)
            until = CLOCK.now() + float(rest or 0)
            while CLOCK.now() < until:
                if stopped():
                    return 143
                time.sleep(0.05)
        elif word == "exit":
            return int(rest or 0)
    return 0


def _code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))
