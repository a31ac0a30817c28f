"""Run every benchmark under benchmarks/ in its own process; each prints JSON lines.

    python benchmarks/run_all.py [--only NAME ...]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# cheap ones first; bench_architecture's tutorial case needs ~12 GB and minutes
ORDER = [
    "bench_distance_target",
    "bench_data_pipeline",
    "bench_validation",
    "bench_blockwise_predict",
    "bench_architecture",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None)
    args = parser.parse_args()
    names = [n for n in ORDER if (HERE / f"{n}.py").exists()]
    names += sorted(p.stem for p in HERE.glob("bench_*.py") if p.stem not in names)
    failed = 0
    for name in names:
        if args.only and name not in args.only:
            continue
        print(f'{{"benchmark": "{name}"}}', flush=True)
        failed += subprocess.run([sys.executable, str(HERE / f"{name}.py")]).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
