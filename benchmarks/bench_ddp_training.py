"""Data-parallel training throughput: 1 rank vs N ranks of ``dacapo train`` under ``torchrun``.

A run of the tutorial's kind (``_common.tutorial_kind_run_config``, batch size 2 per rank) trains
for ``--iterations`` (+ ``--warmup`` left out) with each rank count of ``--ranks``, launched as
``torchrun --nproc-per-node R -m dacapo.cli train`` (``gloo`` on CPU, ``nccl`` on CUDA with one GPU
per rank). On CPU the cores are shared: each rank gets ``cores // R`` torch threads (or
``--torch-threads``). Figures come
from rank 0's stored training stats: the median iteration time, the data wait (time in
``next_batch``) as a fraction of the iteration time, and the samples per second
(``R × batch_size`` per iteration; gradients are averaged, so R ranks train like one process with
R times the batch). ``speedup`` is the samples/s over those of the first rank count.

    .venv/bin/python benchmarks/bench_ddp_training.py [--quick] [--ranks 1 2] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import cores, emit, tutorial_kind_run_config, use_temporary_stores

REPO = Path(__file__).resolve().parents[1]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--input", type=int, default=100, help="UNet input edge (voxels)")
    parser.add_argument("--num-fmaps", type=int, default=12)
    parser.add_argument("--fetchers", type=int, default=1, help="data fetchers per rank")
    parser.add_argument("--volume", type=int, default=160)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--torch-threads", type=int, default=None,
                        help="torch threads per rank (default: cores // ranks on CPU, 4 on CUDA)")
    args = parser.parse_args(argv)
    if args.quick:
        args.iterations, args.warmup, args.num_fmaps, args.volume = 3, 1, 2, 128

    from dacapo.store.create_store import create_config_store, create_stats_store

    with tempfile.TemporaryDirectory(prefix="dacapo-bench-") as tmp:
        tmp = Path(tmp)
        use_temporary_stores(tmp)
        first = None
        for ranks in args.ranks:
            name = f"bench_ddp_{ranks}"
            config = tutorial_kind_run_config(
                tmp, name, input_size=args.input, num_fmaps=args.num_fmaps, fmap_inc_factor=2,
                num_data_fetchers=args.fetchers, volume=args.volume,
                iterations=args.iterations + args.warmup,
            )
            create_config_store().store_run_config(config)
            threads = args.torch_threads or (max(1, cores() // ranks) if args.device == "cpu" else 4)
            env = {**os.environ, "OMP_NUM_THREADS": str(threads),
                   "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
            if args.device == "cpu":
                env["CUDA_VISIBLE_DEVICES"] = ""  # gloo on CPU even where GPUs exist
            start = time.perf_counter()
            result = subprocess.run(
                [sys.executable, "-m", "torch.distributed.run", "--standalone",
                 f"--nproc-per-node={ranks}", "-m", "dacapo.cli", "train", "-r", name,
                 "--no-validation"],
                env=env, capture_output=True, text=True,
            )
            seconds = time.perf_counter() - start
            if result.returncode != 0:
                sys.exit(f"{ranks} ranks failed (exit {result.returncode}):\n{result.stderr[-3000:]}")
            stats = create_stats_store().retrieve_training_stats(name).iteration_stats
            steady = stats[args.warmup:]
            wall = sum(s.time for s in steady)
            median = statistics.median(s.time for s in steady)
            samples = ranks * config.trainer_config.batch_size / median
            first = first or samples
            emit({
                "bench": "ddp_training", "ranks": ranks, "device": args.device,
                "backend": "gloo" if args.device == "cpu" else "nccl",
                "torch_threads_per_rank": threads, "cores": cores(),
                "iterations": len(steady), "median_iteration_s": round(median, 4),
                "its_per_s": round(1 / median, 3), "samples_per_s": round(samples, 3),
                "speedup": round(samples / first, 3),
                "data_wait_fraction": round(sum(s.data_time or 0 for s in steady) / wall, 3),
                "command_seconds": round(seconds, 1), "input": args.input,
                "num_fmaps": args.num_fmaps, "fetchers_per_rank": args.fetchers,
            })


if __name__ == "__main__":
    main()
