"""Plays kaniko's part in an emulated account, where no container ever runs.

moto's ECS starts no containers, so nothing would write a build log, push an image or put the
digest file. This watcher does, through the same AWS APIs kaniko uses, for every dockyard build
task it sees running: it writes kaniko-like log lines to the task's log stream, pushes an image
manifest to ECR under each ECR destination tag, and PUTs the digest to the ``--digest-file`` URL.

    .venv/bin/python -m devtools.fake_kaniko --endpoint http://127.0.0.1:5000 [--cluster acme]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import threading
import time
from typing import Any

import boto3
import requests
from botocore.exceptions import ClientError

REGION = "ap-southeast-2"


def _arg(command: list[str], name: str) -> list[str]:
    prefix = f"--{name}="
    return [a[len(prefix):] for a in command if a.startswith(prefix)]


def manifest_for(command: list[str]) -> str:
    """A small OCI manifest that depends on what was asked (so different builds differ)."""
    from devtools.fake_ecs import CRASH, HANG

    build_args = _arg(command, "build-arg")
    # Marks the ECS emulator reads: an app built with these never becomes healthy.
    marks = [mark for arg, mark in (("FAKE_APP_CRASH=", CRASH), ("FAKE_APP_HANG=", HANG))
             if any(a.startswith(arg) for a in build_args)]
    return image_manifest(json.dumps(command[1:3] + build_args), marks)


def image_manifest(seed: str, marks: list[str] | tuple[str, ...] = ()) -> str:
    """An OCI manifest whose one layer follows ``seed`` (another seed, another image), with
    ``marks`` as annotations (see fake_ecs.py)."""
    layer = "sha256:" + hashlib.sha256(seed.encode()).hexdigest()
    return json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2,
                   "digest": "sha256:" + hashlib.sha256(b"{}").hexdigest()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "size": 1,
                    "digest": layer}],
        **({"annotations": dict.fromkeys(marks, "true")} if marks else {})})


def _set_exit_code(task_arn: str, code: int) -> None:
    """Give the task's container an exit code in moto's in-process ECS (moto reports 0)."""
    from moto.ecs.models import ecs_backends

    _, _, _, region, account, _ = task_arn.split(":", 5)
    for tasks in ecs_backends[account][region].tasks.values():
        if task_arn in tasks:
            for container in tasks[task_arn].containers:
                container.exitCode = code


class FakeKaniko:
    """Acts for each new running build task of ``cluster``."""

    def __init__(self, endpoint: str | None, cluster: str = "acme", region: str = REGION,
                 log_lines: int = 3) -> None:
        session = boto3.Session(region_name=region, aws_access_key_id="testing",
                                aws_secret_access_key="testing")
        self.ecs = session.client("ecs", endpoint_url=endpoint)
        self.ecr = session.client("ecr", endpoint_url=endpoint)
        self.logs = session.client("logs", endpoint_url=endpoint)
        self.cluster = cluster
        self.log_lines = log_lines
        self.seen: set[str] = set()
        self.handled: list[dict[str, Any]] = []
        # Repository (``acme/web``) -> the exit code builds pushing to it fail with.
        self.fail_for: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def act(self, task: dict[str, Any]) -> None:
        """Do what kaniko would have done for this task."""
        overrides = task.get("overrides", {}).get("containerOverrides", [{}])[0]
        command = list(overrides.get("command", []))
        task_id = task["taskArn"].rsplit("/", 1)[-1]
        group = self._log_group(task)
        lines = [f"INFO[0000] Retrieving image manifest from {_arg(command, 'context')[0]}",
                 *(f"INFO[000{i}] Step {i}: building" for i in range(1, self.log_lines + 1))]
        fail = [a.split("=", 1)[1] for a in _arg(command, "build-arg")
                if a.startswith("FAKE_KANIKO_FAIL=")]
        fail += [str(code) for d in _arg(command, "destination")
                 for repo, code in self.fail_for.items() if f"/{repo}:" in d]
        if fail:
            lines += ["INFO[0004] RUN make test",
                      "error building image: error building stage: failed to execute command: "
                      f"waiting for process to exit: exit status {fail[0]}"]
            self._write_logs(group, task_id, lines)
            _set_exit_code(task["taskArn"], int(fail[0]))
            self.handled.append({"task": task["taskArn"], "digest": None, "command": command})
            return
        digest = None
        manifest = manifest_for(command)
        for destination in _arg(command, "destination"):
            uri, tag = destination.rsplit(":", 1)
            repository = uri.split("/", 1)[1]
            lines.append(f"INFO[0009] Pushing image to {destination}")
            try:
                pushed = self.ecr.put_image(repositoryName=repository, imageManifest=manifest,
                                            imageTag=tag)
                digest = pushed["image"]["imageId"]["imageDigest"]
            except ClientError as err:
                code = err.response.get("Error", {}).get("Code", "")
                if code != "ImageAlreadyExistsException":  # an immutable tag taken: kaniko fails
                    lines.append(f"error pushing image: failed to push to destination "
                                 f"{destination}: {code}")
                    self._write_logs(group, task_id, lines)
                    _set_exit_code(task["taskArn"], 1)
                    self.handled.append({"task": task["taskArn"], "digest": None,
                                         "command": command})
                    return
                # The registry accepts the same manifest under the same tag again.
                digest = self.ecr.describe_images(repositoryName=repository, imageIds=[
                    {"imageTag": tag}])["imageDetails"][0]["imageDigest"]
            lines.append(f"INFO[0010] Pushed {uri}@{digest}")
        for url in _arg(command, "digest-file"):
            if digest:
                requests.put(url, data=digest.encode(), timeout=10)
        self._write_logs(group, task_id, lines)
        self.handled.append({"task": task["taskArn"], "digest": digest, "command": command})

    def _write_logs(self, group: str, task_id: str, lines: list[str]) -> None:
        stream = f"build/kaniko/{task_id}"
        self.logs.create_log_stream(logGroupName=group, logStreamName=stream)
        now = int(time.time() * 1000)
        self.logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[
            {"timestamp": now + i, "message": line} for i, line in enumerate(lines)])

    def _log_group(self, task: dict[str, Any]) -> str:
        definition = self.ecs.describe_task_definition(taskDefinition=task["taskDefinitionArn"])
        options = definition["taskDefinition"]["containerDefinitions"][0]["logConfiguration"]
        return str(options["options"]["awslogs-group"])

    def poll_once(self) -> None:
        """Act for the running build tasks not seen yet."""
        arns = self.ecs.list_tasks(cluster=self.cluster).get("taskArns", [])
        fresh = [a for a in arns if a not in self.seen]
        if not fresh:
            return
        for task in self.ecs.describe_tasks(cluster=self.cluster, tasks=fresh,
                                            include=["TAGS"])["tasks"]:
            self.seen.add(task["taskArn"])
            tags = {t["key"]: t["value"] for t in task.get("tags", [])}
            if "dockyard:build" in tags:
                self.act(task)

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


def main() -> int:
    parser = argparse.ArgumentParser(description="Play kaniko's part in a moto server.")
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--cluster", default="acme")
    parser.add_argument("--region", default=REGION)
    args = parser.parse_args()
    watcher = FakeKaniko(args.endpoint, args.cluster, args.region).start()
    print(f"playing kaniko for cluster {args.cluster} at {args.endpoint}; Ctrl-C stops it",
          flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        watcher.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
