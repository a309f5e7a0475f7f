"""The docs' transcripts, made from real runs so they cannot drift.

A block in a Markdown file written as

    <!-- transcript: NAME -->
    ```
    ...
    ```
    <!-- /transcript -->

holds what :data:`TRANSCRIPTS` ``[NAME]`` prints when it runs dockyard. Refresh every block with

    .venv/bin/python -m devtools.transcripts

and check them (exit 1 naming each block that differs; tests/test_transcripts.py runs it) with
``--check``. ``plan`` is offline and priced from a fixed table, so its transcripts are compared
whole. The walkthrough's other transcripts come from one run of its commands on the local
emulator (devtools/walkthrough.py), with what differs from run to run made stable; a check
compares what every run prints alike (:func:`devtools.walkthrough.skeleton`: not the stages and
events dockyard prints as it happens to see them).
"""

from __future__ import annotations

import argparse
import functools
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", ROOT / "docs" / "walkthrough.md"]
BLOCK = re.compile(r"(<!-- transcript: (?P<name>[\w-]+) -->\n```[^\n]*\n)(?P<body>.*?)"
                   r"(```\n<!-- /transcript -->)", re.DOTALL)


def dockyard(args: list[str], folder: Path) -> str:
    """What ``dockyard ARGS`` prints on stdout in ``folder``, with no AWS configured."""
    environment = {"PATH": "/usr/bin:/bin", "HOME": str(folder), "NO_COLOR": "1",
                   "PYTHONPATH": f"{ROOT / 'src'}", "AWS_CONFIG_FILE": "/nonexistent",
                   "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"}
    done = subprocess.run([sys.executable, "-m", "dockyard", *args], cwd=folder,
                          env=environment, capture_output=True, text=True, timeout=300,
                          check=False)
    if done.returncode != 0:
        raise RuntimeError(f"dockyard {' '.join(args)} exited {done.returncode}: "
                           f"{done.stderr.strip()[-500:]}")
    return done.stdout


def plan_of(config: Path | None) -> str:
    """``dockyard plan`` of ``config`` (copied to an empty folder), or of the bundled example
    in an empty folder."""
    with tempfile.TemporaryDirectory(prefix="dockyard-transcript-") as tmp:
        folder = Path(tmp)
        (folder / ".git").mkdir()  # the search for a dockyard.yml stops here
        if config is not None:
            shutil.copy(config, folder / "dockyard.yml")
        return dockyard(["plan"], folder)


def abridged(plan: str) -> str:
    """The README's excerpt of a plan: every stack and endpoint, the first rows of the other
    tables with ``...`` for the rest, the named roles, the total and cfn-lint's verdict."""
    sections = plan.rstrip("\n").split("\n\n")
    kept: list[str] = []
    for section in sections:
        lines = section.split("\n")
        title = lines[0]
        if title.startswith(("dockyard plan:", "Stacks", "Endpoints", "Who reaches",
                             "cfn-lint")):
            kept.append(section)
        elif title.startswith("Open to whom"):
            kept.append("\n".join([*lines[:4], "  ...", lines[-1]]))
        elif title.startswith("Who may do what"):
            named = [line for line in lines[1:] if re.match(r"  \S+-(kaniko|pipeline)-", line)]
            kept.append("\n".join([title, *named[-4:], "  ..."]))
        elif title.startswith("Monthly cost"):
            total = next(line for line in lines if line.strip().startswith("Total"))
            kept.append("\n".join([*lines[:2], "  ...", total]))
    return "\n\n".join(kept) + "\n"


@functools.cache
def walkthrough() -> dict[str, str]:
    """The walkthrough's transcripts, from one run on the emulator."""
    from devtools import walkthrough as run

    return run.run()


WALKTHROUGH = ("walkthrough-up-without-secret", "walkthrough-up", "walkthrough-status",
               "walkthrough-build", "walkthrough-deploy", "walkthrough-canary",
               "walkthrough-canary-rolled-back", "walkthrough-status-web",
               "walkthrough-rollback", "walkthrough-rollback-again", "walkthrough-down")

TRANSCRIPTS: dict[str, Callable[[], str]] = {
    "plan-bundled-abridged": lambda: abridged(plan_of(None)),
    "plan-web": lambda: plan_of(ROOT / "examples" / "web" / "dockyard.yml"),
    **{name: functools.partial(lambda name: walkthrough()[name], name) for name in WALKTHROUGH},
}


def refreshed(text: str, made: dict[str, str]) -> str:
    """``text`` with each transcript block's body replaced by what its run printed. A
    walkthrough block that differs only in lines runs print differently is kept as it is, so a
    refresh changes only what changed."""
    from devtools.walkthrough import skeleton

    def replace(match: re.Match[str]) -> str:
        name = match["name"]
        if name not in TRANSCRIPTS:
            raise KeyError(f"no transcript named {name!r} (devtools/transcripts.py)")
        if name not in made:
            made[name] = TRANSCRIPTS[name]()
        if name in WALKTHROUGH and skeleton(match["body"]) == skeleton(made[name]):
            return match.group(0)
        return match.group(1) + made[name] + match.group(4)

    return BLOCK.sub(replace, text)


def drifted(text: str, made: dict[str, str]) -> list[str]:
    """The names of ``text``'s transcript blocks that differ from what their runs print (a
    walkthrough block: in what every run prints alike)."""
    from devtools.walkthrough import skeleton

    found = []
    for match in BLOCK.finditer(text):
        name = match["name"]
        if name not in TRANSCRIPTS:
            raise KeyError(f"no transcript named {name!r} (devtools/transcripts.py)")
        if name not in made:
            made[name] = TRANSCRIPTS[name]()
        same = skeleton if name in WALKTHROUGH else (lambda body: body)
        if same(match["body"]) != same(made[name]):
            found.append(name)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description="Refresh the docs' transcripts from real runs.")
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 naming each file whose transcripts differ")
    args = parser.parse_args()
    made: dict[str, str] = {}
    stale = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        if args.check:
            stale += [f"{doc.relative_to(ROOT)}: transcript {name} differs from its run"
                      for name in drifted(text, made)]
            continue
        new = refreshed(text, made)
        if new != text:
            stale.append(f"{doc.relative_to(ROOT)}: transcripts refreshed")
            doc.write_text(new, encoding="utf-8")
    for line in stale:
        print(line, file=sys.stderr)
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    raise SystemExit(main())
