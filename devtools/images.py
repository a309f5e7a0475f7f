"""What a fake image holds on its PATH, as far as a one-off command of it is concerned.

fake_kaniko builds no file system, so the emulator would run any command: a smoke test that
calls ``curl`` would pass although ``python:*-slim`` has no curl, and on AWS it exits 127 and
every canary rolls back. From the Dockerfile's final ``FROM`` (and the packages its ``RUN``
lines install with apt-get or apk), the commands its base image is documented to lack are
recorded on the image (an annotation, :data:`LACKS`); a one-off task then fails such a command
as the image would:

- Docker Hub, "python", Image Variants: ``python:<version>-slim`` "only contains the minimal
  packages needed to run python" (Debian's minimal set: no curl, no wget); the same holds for
  ``debian:*-slim`` and ``node:*-slim``. The default (non-slim) python and node images are
  built on buildpack-deps, which includes curl and wget.
- Docker Hub, "alpine": BusyBox, which has ``wget`` and ``sh`` but no ``curl`` or ``bash``.
- ``scratch`` is empty: not even ``sh``.
- A shell's command that is not found exits 127 (POSIX, Shell Command Language 2.8.2, "If a
  command is not found, the exit status shall be 127"); an exec-form command that is not in
  the image stops the task before it runs: "CannotStartContainerError: ... executable file not
  found in $PATH" (ECS Developer Guide, "Amazon ECS stopped task error messages").

A base not in this table lacks nothing here: kinder than AWS, and said so in
docs/aws-assumptions.md.
"""

from __future__ import annotations

import re

LACKS = "dev.dockyard.fake/lacks"  # annotation: the commands the image does not have

_DEBIAN_SLIM = frozenset({"curl", "wget", "git"})
_BUSYBOX = frozenset({"curl", "bash", "git"})
_NOTHING = frozenset({"sh", "bash", "curl", "wget", "python", "python3", "node", "git"})


def base_lacks(image: str) -> frozenset[str]:
    """The commands a base image (``python:3.12-slim``) is documented to lack."""
    if image == "scratch":
        return _NOTHING
    name, _, tag = image.split("@", 1)[0].rpartition("/")[2].partition(":")
    if name == "alpine" or (name in ("python", "node") and "alpine" in tag):
        return _BUSYBOX
    if name == "ubuntu" or (name in ("python", "node", "debian") and "slim" in tag):
        return _DEBIAN_SLIM
    return frozenset()


def lacks(dockerfile: str) -> frozenset[str]:
    """What the image a Dockerfile builds lacks: its final stage's base's lacks, less what its
    RUN lines install with apt-get or apk."""
    stages = re.findall(r"^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)", dockerfile,
                        re.IGNORECASE | re.MULTILINE)
    if not stages:
        return frozenset()
    final = dockerfile[[m.start() for m in re.finditer(
        r"^\s*FROM\s", dockerfile, re.IGNORECASE | re.MULTILINE)][-1]:]
    installed = {word for match in re.finditer(
        r"(?:apt-get\s+install|apk\s+add)\s+([^&;|\n]*)", final) for word in match[1].split()}
    return base_lacks(stages[-1]) - installed


def missing_command(command: list[str], lacking: frozenset[str] | set[str]) -> str | None:
    """The first command of ``command`` (exec form, or each step of ``sh -c "..."``) that the
    image lacks, or None."""
    if not command:
        return None
    if command[0] in lacking:
        return command[0]
    if command[:2] != ["sh", "-c"] or len(command) < 3:
        return None
    for step in re.split(r";|&&|\|\||\||\n", command[2]):
        words = [w for w in step.split() if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=\S*", w)]
        if words and words[0] in lacking:
            return words[0]
    return None
