"""Cold and warm start to the first painted window, of the bundle and of the source checkout, the same way:

    python packaging/start_timing.py --catalog DIR -- dist/StyleRec/StyleRec
    python packaging/start_timing.py --catalog DIR -- .venv/bin/python -m stylerec_desktop

Spawns the command with ``--catalog DIR --quit-after-first-paint`` (offscreen, fresh settings) ``--runs + 1``
times; the app prints ``FIRST_PAINT <time.monotonic()>``, system-wide on Linux, so spawn-to-paint is one
subtraction. The first run is reported as cold (files not yet in the page cache, if nothing read them before).
Figures depend on the machine's load: give ``uptime`` with them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("command", nargs="+")
    args = parser.parse_args()
    times = []
    with tempfile.TemporaryDirectory(prefix="stylerec-start-") as config:
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": config}
        for _ in range(args.runs + 1):
            spawned = time.monotonic()
            out = subprocess.run([*args.command, "--catalog", args.catalog, "--quit-after-first-paint"], env=env,
                                 capture_output=True, text=True, timeout=300, check=True).stdout  # fmt: skip
            painted = float(next(line.split()[1] for line in out.splitlines() if line.startswith("FIRST_PAINT")))
            times.append(painted - spawned)
    print(json.dumps({"command": " ".join(args.command), "cold_s": round(times[0], 3),
                      "warm_best_s": round(min(times[1:]), 3),
                      "warm_median_s": round(statistics.median(times[1:]), 3)}))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
