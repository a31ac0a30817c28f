"""``import dacapo`` wall time in a fresh interpreter (target < 0.5 s): best and median of
``--repeat`` runs, next to a bare ``python -c pass`` start for reference.

    .venv/bin/python benchmarks/bench_import.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _common import emit

ROOT = Path(__file__).resolve().parents[1]


def timed(code: str) -> float:
    """Seconds spent inside the child on ``code`` (interpreter start-up excluded)."""
    script = f"import time; t = time.perf_counter(); {code}; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    return float(out.strip().splitlines()[-1])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    times = [timed("import dacapo") for _ in range(args.repeat)]
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    interpreter = time.perf_counter() - start
    emit({"bench": "import", "what": "import dacapo", "repeat": args.repeat,
          "best_s": round(min(times), 4), "median_s": round(statistics.median(times), 4),
          "target_s": "< 0.5", "interpreter_start_s": round(interpreter, 4)})


if __name__ == "__main__":
    main()
