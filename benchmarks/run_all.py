"""Run the benchmarks under benchmarks/, each in its own process; each prints JSON lines.

    python benchmarks/run_all.py            # default sizes: ~15 min on 2 idle cores
    python benchmarks/run_all.py --quick    # smoke sizes: every benchmark runs, figures meaningless
    python benchmarks/run_all.py --full     # each benchmark's own defaults (the tutorial's UNet:
                                            # ~12 GB and long; 1,000 training iterations)
    python benchmarks/run_all.py --only bench_training bench_memory

Issue figures: (1) bench_training, (2) bench_data_pipeline, (3) bench_blockwise_predict,
(4) bench_validation, (5) bench_memory, (6) bench_import; blockwise vs whole-volume
segmentation: bench_segment_blockwise; validation sweep in memory vs blockwise:
bench_validation_sweep.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# cheap ones first; bench_architecture's tutorial case needs ~12 GB and minutes (--full only)
ORDER = [
    "bench_import",
    "bench_distance_target",
    "bench_array_reads",
    "bench_remote_reads",
    "bench_data_pipeline",
    "bench_training",
    "bench_ddp_training",
    "bench_blockwise_predict",
    "bench_validation",
    "bench_segment_blockwise",
    "bench_validation_sweep",
    "bench_memory",
    "bench_architecture",
]
ARGS = {
    "quick": {
        "bench_import": ["--repeat", "1"],
        "bench_distance_target": ["--repeats", "1", "--sizes", "40"],
        "bench_array_reads": ["--roi", "40", "--volume", "64", "--chunks", "16", "--repeats", "1"],
        "bench_remote_reads": ["--volume", "32", "--chunks", "16", "--latency-ms", "1"],
        "bench_data_pipeline": ["--fetchers", "0", "1", "--batches", "2", "--warmup", "1",
                                "--size", "96", "--input", "52", "--output", "12"],
        "bench_training": ["--quick", "--fetchers", "1"],
        "bench_ddp_training": ["--quick"],
        "bench_blockwise_predict": ["--blocks", "1", "1", "1", "--workers", "1"],
        "bench_validation": ["--size", "96"],
        "bench_segment_blockwise": ["--quick"],
        "bench_validation_sweep": ["--quick"],
        "bench_memory": ["--quick"],
        "bench_architecture": ["--case", "small", "--steps", "1", "--flops-only"],
    },
    "default": {
        "bench_import": [],
        "bench_distance_target": [],
        "bench_array_reads": [],
        "bench_remote_reads": [],
        "bench_data_pipeline": ["--size", "192"],
        "bench_training": [],
        "bench_ddp_training": [],
        "bench_blockwise_predict": [],
        "bench_validation": [],
        "bench_segment_blockwise": [],
        "bench_validation_sweep": [],
        "bench_memory": [],
        "bench_architecture": ["--case", "small"],
    },
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true")
    mode.add_argument("--full", action="store_true")
    args = parser.parse_args()
    table = ARGS["quick"] if args.quick else {} if args.full else ARGS["default"]
    names = [n for n in ORDER if (HERE / f"{n}.py").exists()]
    names += sorted(p.stem for p in HERE.glob("bench_*.py") if p.stem not in names)
    failed = 0
    for name in names:
        if args.only and name not in args.only:
            continue
        extra = table.get(name, [])
        print(json.dumps({"benchmark": name, "args": extra}), flush=True)
        start = time.perf_counter()
        code = subprocess.run([sys.executable, str(HERE / f"{name}.py"), *extra]).returncode
        print(json.dumps({"benchmark": name, "exit_code": code,
                          "seconds": round(time.perf_counter() - start, 1)}), flush=True)
        failed += code != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
