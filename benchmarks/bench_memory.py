"""Resident memory over a long training run: growth from iteration 100 to the last (target < 5 %).

``dacapo.train.train_run`` (the real loop) trains a small run of the tutorial's kind (its
trainer, four augments and distance task; a 1-level UNet with a 36³ input so that 1,000
iterations take a minute or two — the loop's and the data pipeline's memory is what is measured,
not the model's) with persistent data workers. The RSS of the training process and of each data
worker is sampled at every ``next_batch`` call.

Prints one JSON line: RSS (MiB) of the training process and of the workers at iteration 100 and
at the end, the growth in percent, and the training process's peak RSS (VmHWM).

    .venv/bin/python benchmarks/bench_memory.py [--iterations 1000] [--quick]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import attrs

from _common import (children, emit, peak_rss_bytes, rss_bytes, tutorial_kind_run_config,
                     use_temporary_stores)

MIB = 2**20


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=1000)
    parser.add_argument("--reference", type=int, default=100,
                        help="iteration whose RSS the growth is relative to")
    parser.add_argument("--fetchers", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="60 iterations, reference 20")
    args = parser.parse_args(argv)
    if args.quick:
        args.iterations, args.reference = 60, 20

    import torch

    # the model is tiny: one thread avoids idling at thread barriers on a shared machine
    torch.set_num_threads(1)

    from dacapo.experiments.architectures import CNNectomeUNetConfig
    from dacapo.experiments.run import Run
    from dacapo.train import train_run

    with tempfile.TemporaryDirectory(prefix="dacapo-bench-") as tmp:
        tmp = Path(tmp)
        use_temporary_stores(tmp)
        config = tutorial_kind_run_config(
            tmp, "bench_memory", input_size=100, num_fmaps=4, fmap_inc_factor=2,
            num_data_fetchers=args.fetchers, volume=128, iterations=args.iterations,
        )
        config = attrs.evolve(config, architecture_config=CNNectomeUNetConfig(
            name="bench_memory_unet", input_shape=(36, 36, 36), fmaps_out=8, fmaps_in=1,
            num_fmaps=4, fmap_inc_factor=2, downsample_factors=[(2, 2, 2)],
            eval_shape_increase=(16, 16, 16),
        ))
        run = Run(config)
        samples = {}  # iteration -> (main RSS, [worker RSS])
        next_batch = run.trainer.next_batch

        def sampled_next_batch(iteration):
            samples[iteration] = (rss_bytes(), [rss_bytes(p) for p in children()])
            return next_batch(iteration)

        run.trainer.next_batch = sampled_next_batch
        start = time.perf_counter()
        train_run(run, validate=False, device="cpu")
        seconds = time.perf_counter() - start

        last = max(samples)
        ref_main, ref_workers = samples[args.reference]
        end_main, end_workers = samples[last]
        total_ref = ref_main + sum(ref_workers)
        total_end = end_main + sum(end_workers)
        emit({
            "bench": "memory", "iterations": last + 1, "reference_iteration": args.reference,
            "num_data_fetchers": args.fetchers, "seconds": round(seconds, 1),
            "main_rss_mib": [round(ref_main / MIB, 1), round(end_main / MIB, 1)],
            "workers_rss_mib": [[round(r / MIB, 1) for r in ref_workers],
                                [round(r / MIB, 1) for r in end_workers]],
            "main_growth_percent": round(100 * (end_main - ref_main) / ref_main, 2),
            "total_growth_percent": round(100 * (total_end - total_ref) / total_ref, 2),
            "target_growth_percent": "< 5",
            "main_peak_rss_mib": round(peak_rss_bytes() / MIB, 1),
        })


if __name__ == "__main__":
    main()
