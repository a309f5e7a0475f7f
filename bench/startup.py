"""Start-up time of the fast commands against a baseline measured in the same run.

Target (issue: foundation): `dockyard --version` and `dockyard --help` each take at most half
the time of `python -c "import boto3"`. Timings are wall-clock medians over several rounds,
interleaved so that machine noise hits every command alike. Run:

    .venv/bin/python bench/startup.py [--rounds 21]

Exit status 0 when the target is met, 1 when it is not.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET_RATIO = 0.5


def _dockyard() -> list[str]:
    script = Path(sys.executable).with_name("dockyard")
    if script.exists():
        return [str(script)]
    found = shutil.which("dockyard")
    return [found] if found else [sys.executable, "-m", "dockyard"]


def _time(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args()
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "python -c 'import boto3'": [sys.executable, "-c", "import boto3"],
        "dockyard --version": [*_dockyard(), "--version"],
        "dockyard --help": [*_dockyard(), "--help"],
    }
    for argv in commands.values():  # warm the file cache once
        _time(argv)
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.rounds):
        for name, argv in commands.items():
            samples[name].append(_time(argv))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    baseline = medians["python -c 'import boto3'"]
    print(f"{'command':28} {'median ms':>10} {'vs boto3 import':>16}")
    for name, median in medians.items():
        print(f"{name:28} {median * 1000:10.1f} {median / baseline:16.2f}")
    worst = max(medians["dockyard --version"], medians["dockyard --help"]) / baseline
    verdict = "met" if worst <= TARGET_RATIO else "MISSED"
    print(f"\ntarget: each dockyard command <= {TARGET_RATIO:.2f} x the boto3 import; "
          f"worst {worst:.2f}: {verdict} ({args.rounds} rounds)")
    return 0 if worst <= TARGET_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(main())
