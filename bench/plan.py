"""`dockyard plan` on the bundled example, warm, with and without cfn-lint.

Target (issue: speed): the warm plan with lint in at most 2 seconds on this 2-core machine. The
same run times `plan --no-lint` and `python -c "import cfnlint.api"` as baselines, so the part
lint takes, and the part of that which is only importing cfn-lint, can be read off. Timings are
wall-clock medians over interleaved rounds (the first, cold, round is dropped). Run:

    .venv/bin/python bench/plan.py [--rounds 7]

Exit status 0 when the target is met, 1 when it is not.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 2.0


def _time(argv: list[str], cwd: str) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    dockyard = [str(Path(sys.executable).with_name("dockyard"))]
    commands = {"plan": [*dockyard, "plan"], "plan --no-lint": [*dockyard, "plan", "--no-lint"],
                "import cfnlint.api": [sys.executable, "-c", "import cfnlint.api"]}
    times: dict[str, list[float]] = {name: [] for name in commands}
    with tempfile.TemporaryDirectory(prefix="dockyard-bench-plan-") as folder:
        for round_ in range(args.rounds + 1):
            for name, argv in commands.items():
                seconds = _time(argv, folder)
                if round_:
                    times[name].append(seconds)
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, seconds in medians.items():
        print(f"{name:22}{seconds:8.2f} s")
    met = medians["plan"] <= TARGET_SECONDS
    print(f"\nplan with lint, warm: {medians['plan']:.2f} s (target {TARGET_SECONDS:g} s)   "
          f"{'met' if met else 'MISSED'}")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
