"""The walkthrough (docs/walkthrough.md) run on the local emulator, for its transcripts.

:func:`run` copies ``examples/web`` to an empty folder, starts ``devtools.moto_server --kaniko``
on a free port for it (without the GitHub secret, as a new account is), and runs the
walkthrough's commands in its order: ``up`` before the secret exists, ``up``, ``status``,
``build``, ``deploy``, the canary (``up --only app-web`` after the edit the walkthrough shows,
a deploy that passes its smoke test and one whose smoke test fails), ``status web``,
``rollback`` twice and ``down``. Each command's output is kept as a terminal shows it (stderr
and stdout in the order written) under a name that a ``<!-- transcript: NAME -->`` block of the
walkthrough refers to (devtools/transcripts.py).

What differs from run to run is made stable (:class:`Stable`): times of day and dates, and
every identifier the emulator makes up (task ids, digests, deployment ids, bucket suffixes,
file system ids) is replaced by one made from its order of appearance, the same one wherever
it appears again, prefixes included. Lines whose number depends on how often dockyard happened
to look (a task's intermediate states, a deployment's repeated progress counts) are kept once.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from devtools.moto_server import GITHUB_STAND_IN, announced

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "web"
TIME_FACTOR = 30  # a 10-minute canary bake takes 20 s of the wall

CANARY = """    deploy:
      strategy: canary
      canary_percent: 12.5
      smoke_test: >-             # python: python:*-slim images have no curl
        python -c "import os, urllib.request as r;
        name, value = os.environ['DOCKYARD_TEST_HEADER'].split(': ');
        r.urlopen(r.Request(os.environ['DOCKYARD_TEST_URL'] + '/healthz',
        headers={name: value}), timeout=10)"
"""
# dockyard runs a smoke test with ``sh -c``, which the emulator plays step by step when it is
# made of ``echo``, ``sleep`` and ``exit`` (devtools/fake_kaniko.py): a smoke test that fails.
FAILING_SMOKE = """    deploy:
      strategy: canary
      canary_percent: 12.5
      smoke_test: echo checking the test endpoint; exit 7
"""


@dataclass
class Stable:
    """Replaces what differs from run to run with what its order of appearance gives."""

    seen: dict[str, str] = field(default_factory=dict)

    def _made(self, kind: str, value: str, width: int, alphabet: str = "0123456789abcdef") -> str:
        if value not in self.seen:
            count = sum(1 for key in self.seen if key.startswith(kind + ":"))
            digest = hashlib.sha512(f"dockyard {kind} {count}".encode()).digest()
            self.seen[kind + ":" + value] = self.seen[value] = \
                "".join(alphabet[b % len(alphabet)] for b in digest)[:width]
        return self.seen[value]

    def __call__(self, text: str) -> str:
        text = re.sub(r"\b\d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)?( UTC)?",
                      lambda m: "2026-12-01 12:00" + (":00" if m[1] else "") + (m[2] or ""),
                      text)
        text = re.sub(r"(?m)^(\s*)\d\d:\d\d:\d\d ", r"\g<1>12:00:00 ", text)
        for uuid in dict.fromkeys(re.findall(
                r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", text)):
            made = self._made("uuid", uuid, 32)
            text = text.replace(uuid, "-".join((made[:8], made[8:12], "4" + made[13:16],
                                                "8" + made[17:20], made[20:32])))
        for long_hex in dict.fromkeys(re.findall(r"\b[0-9a-f]{64}\b", text)):
            self._made("hex", long_hex, 64)
        originals = {k: v for k, v in self.seen.items() if len(k) == 64 and ":" not in k}

        def prefix(match: re.Match[str]) -> str:  # a digest, or its first 8 to 63 digits
            found = match[0]
            made = next((v for k, v in originals.items() if k.startswith(found)), None)
            return made[:len(found)] if made else found

        text = re.sub(r"\b[0-9a-f]{8,64}\b", prefix, text)
        text = re.sub(r"build-\d{8}-\d{6}-[0-9a-f]{6}",
                      lambda m: "build-20261201-120000-" + self._made("build", m[0], 6), text)
        text = re.sub(r"(contextbucket-)([a-z0-9]{12})",
                      lambda m: m[1] + self._made("bucket", m[2], 12,
                                                  "abcdefghijklmnopqrstuvwxyz0123456789"), text)
        text = re.sub(r"(acme-app-web-\w{1,10}-)([A-Z0-9]{12,13})\b",
                      lambda m: m[1] + self._made("physical", m[2], len(m[2]),
                                                  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"), text)
        text = re.sub(r"\becs-svc/(\d{19})\b",
                      lambda m: "ecs-svc/" + self._made("deployment", m[0], 19, "0123456789"),
                      text)
        text = re.sub(r"\becs-pause-\d+\b",
                      lambda m: "ecs-pause-" + self._made("hook", m[0], 2, "123456789"), text)
        text = re.sub(r"\bfs-[0-9a-f]{8}\b", lambda m: "fs-" + self._made("fs", m[0], 8), text)
        text = re.sub(r"\b10\.0\.\d+\.\d+\b",
                      lambda m: "10.0.1." + str(10 + int(self._made("ip", m[0], 2), 16) % 200),
                      text)
        return text


# Lines whose number depends on when dockyard happened to look: a task's states between its
# start and its stop, and a deployment's running counts (the result says how it ended).
_POLLED = re.compile(r"^\s*12:00:00 (\S+: task \S+ is (?!STOPPED)\w+|"
                     r"\d+/\d+ running, \d+ pending, \d+ failed)$")


def _kept_once(text: str) -> str:
    """``text`` without the lines :data:`_POLLED` matches."""
    return "".join(line for line in text.splitlines(keepends=True)
                   if not _POLLED.match(line.rstrip("\n")))


def _changes_abridged(text: str, keep: int = 3) -> str:
    """Each stack's list of changes cut to its first ``keep`` lines and how many more."""
    kept: list[str] = []
    run = 0
    for line in text.splitlines(keepends=True):
        if line.startswith("  + add "):
            run += 1
            if run <= keep:
                kept.append(line)
            continue
        if run > keep:
            kept.append(f"  ... ({run - keep} more)\n")
        run = 0
        kept.append(line)
    return "".join(kept)


# What a check compares: the lines that each run prints alike. A progressive deployment's
# stages, hooks, traffic shifts and ECS's own events are printed as dockyard sees them, and a
# busy machine may look once where another looks twice (a stage of a few seconds is passed
# between two looks); the transcripts show one run's, a check ignores them.
_SEEN_WHEN_LOOKED = re.compile(
    r"^\s*(12:00:00 |2026-12-01 12:00 UTC\s+)?(stage [A-Z_]+:|hook \S+ at|production traffic:|"
    r"\(service \w+\)|ROLLBACK_IN_PROGRESS|production is on)")


def skeleton(text: str) -> str:
    """``text`` without the lines that two runs may print differently."""
    return "".join(line for line in text.splitlines(keepends=True)
                   if not _SEEN_WHEN_LOOKED.match(line))


@dataclass
class Shell:
    """A folder with the example and the environment that points dockyard at the emulator."""

    folder: Path
    environment: dict[str, str]
    stable: Stable = field(default_factory=Stable)

    def dockyard(self, *args: str, code: int = 0) -> str:
        """What ``dockyard ARGS`` prints (stderr and stdout as written), made stable; the
        exit code must be ``code``."""
        return _kept_once(self.stable(self.printed(*args, code=code)))

    def printed(self, *args: str, code: int = 0) -> str:
        """What ``dockyard ARGS`` prints, as it printed it."""
        done = subprocess.run([sys.executable, "-m", "dockyard", *args], cwd=self.folder,
                              env=self.environment, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=900, check=False)
        if done.returncode != code:
            raise RuntimeError(f"dockyard {' '.join(args)} exited {done.returncode}, not "
                               f"{code}:\n{done.stdout[-3000:]}")
        return done.stdout

    def edit(self, app_settings: str) -> None:
        """dockyard.yml with ``app_settings`` added to the app ``web``."""
        config = self.folder / "dockyard.yml"
        text = re.sub(r"(?ms)^    deploy:\n(      .*\n)+", "", config.read_text())
        config.write_text(text.rstrip("\n") + "\n" + app_settings)


@contextmanager
def emulator() -> Iterator[Shell]:
    """The example in an empty folder, and the emulator serving it."""
    with tempfile.TemporaryDirectory(prefix="dockyard-walkthrough-") as tmp:
        folder = Path(tmp) / "web"
        shutil.copytree(EXAMPLE, folder)
        (folder / ".git").mkdir()  # the search for a dockyard.yml stops here
        environment = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}/usr/bin:/bin",
                       "HOME": tmp, "NO_COLOR": "1", "PYTHONUNBUFFERED": "1",
                       "COLUMNS": "100", "XDG_CACHE_HOME": f"{tmp}/cache",
                       "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
                       "AWS_CONFIG_FILE": "/dev/null",
                       "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}
        server = subprocess.Popen(
            [sys.executable, "-m", "devtools.moto_server", "--config",
             str(folder / "dockyard.yml"), "--kaniko", "--without-github-secret",
             "--port", "0", "--time-factor", str(TIME_FACTOR)],
            cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True)
        try:
            assert server.stdout is not None
            printed, exports = announced(server.stdout)
            if "AWS_ENDPOINT_URL" not in exports:
                raise RuntimeError("the emulator did not start:\n" + printed)
            exports.pop("PATH", None)
            yield Shell(folder, {**environment, **exports})
        finally:
            server.terminate()
            server.wait(timeout=30)


def github_secret(shell: Shell) -> None:
    """The GitHub credentials secret, created as section 4 of the walkthrough says."""
    import boto3

    boto3.client("secretsmanager", endpoint_url=shell.environment["AWS_ENDPOINT_URL"],
                 region_name="ap-southeast-2", aws_access_key_id="testing",
                 aws_secret_access_key="testing").create_secret(
        Name="acme/github", SecretString=json.dumps(GITHUB_STAND_IN))


def run() -> dict[str, str]:
    """Every transcript of the walkthrough, by name."""
    made: dict[str, str] = {}
    with emulator() as shell:
        made["walkthrough-up-without-secret"] = shell.dockyard(
            "up", "--yes", "--no-wait-jenkins", code=3)
        github_secret(shell)
        made["walkthrough-up"] = _changes_abridged(
            shell.dockyard("up", "--yes", "--no-wait-jenkins"))
        made["walkthrough-status"] = shell.dockyard("status")
        built = shell.printed("build", "--repo", "web", ".")
        made["walkthrough-build"] = _kept_once(shell.stable(built))
        image = built.strip().splitlines()[-1]
        made["walkthrough-deploy"] = shell.dockyard("deploy", "web", "--image", image)
        shell.edit(CANARY)
        shell.dockyard("up", "--only", "app-web", "--yes")
        made["walkthrough-canary"] = shell.dockyard("deploy", "web", "--image", image)
        shell.edit(FAILING_SMOKE)
        shell.dockyard("up", "--only", "app-web", "--yes")
        made["walkthrough-canary-rolled-back"] = shell.dockyard(
            "deploy", "web", "--image", image, code=4)
        shell.edit(CANARY)
        shell.dockyard("up", "--only", "app-web", "--yes")
        made["walkthrough-status-web"] = shell.dockyard("status", "web")
        made["walkthrough-rollback"] = shell.dockyard("rollback", "web", "--now")
        made["walkthrough-rollback-again"] = shell.dockyard("rollback", "web")
        made["walkthrough-down"] = shell.dockyard("down", "--yes")
    return made


if __name__ == "__main__":
    for name, text in run().items():
        print(f"==== {name}\n{text}")
