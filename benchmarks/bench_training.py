"""Training iterations/s (``dacapo.train.train_run``, the real loop) vs the bare model step rate.

A run of the tutorial's kind on a generated volume (see ``_common.tutorial_kind_run_config``:
distance task, the tutorial's trainer and four augments, a 3-level valid UNet scaled down). The
bare step is the training loop's body alone — forward, loss, ``loss.item()``, backward,
optimizer and scheduler step — repeated on one resident batch of the same shape. Training is
``train_run`` with ``num_data_fetchers`` = each of ``--fetchers``; every call of
``trainer.next_batch`` is timed, so the data wait is the time the loop spent waiting for a batch
and an iteration's time runs from one ``next_batch`` call to the next (stats, progress bar and
all). The first ``--warmup`` iterations (worker start-up) are left out. Bare runs bracket every
training run (the machine may be shared) and each training rate is compared with their mean.

Prints JSON lines: ``bare_step`` runs and one ``training`` line per fetcher count with
``ratio`` (training it/s ÷ bare it/s; target ≥ 0.9) and ``data_wait_fraction`` (target ≤ 0.1).

On a machine with few cores the data workers take CPU time from the model's threads: the data
pipeline's CPU cost per batch (``bench_data_pipeline``) has to be small next to the step's for
the ratio to get near 1; ``cpu_per_batch_s`` shows the pipeline's cost measured here.

    .venv/bin/python benchmarks/bench_training.py [--quick] [--fetchers 0 1 2] [--iterations 30]
        [--device cuda]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from _common import cores, emit, gpu_name, tutorial_kind_run_config, use_temporary_stores


def bare_step_seconds(run, batch, steps: int, device: str = "cpu", amp: bool = True,
                      tf32: bool = True, channels_last: bool = True) -> list[float]:
    """Seconds per step of the training loop's body (``dacapo.train.train_step``: forward, loss,
    ``loss.item()``, backward, optimizer; then the scheduler step) on one resident batch, after a
    warm-up step. The defaults are training's: on CUDA mixed precision (``amp``) and TF32, and
    channels-last 3D tensors; each can be turned off to measure what it brings."""
    import torch

    from dacapo.train import train_step
    from dacapo.utils.torch_utils import (
        configure_device,
        default_device,
        grad_scaler,
        memory_format,
        place_model,
        to_tensor,
    )

    device = default_device(device)
    configure_device(device)
    if not tf32:
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    place_model(run.model, device)
    fmt = memory_format(run.model) if channels_last else torch.contiguous_format
    run.model.to(memory_format=fmt)
    scaler = grad_scaler(device)
    run.model.train()
    times = []
    for i in range(steps + 1):
        start = time.perf_counter()
        raw = to_tensor(batch["raw"], device, fmt)
        target = to_tensor(batch["target"], device, fmt)
        weight = to_tensor(batch["weight"], device, fmt)
        train_step(run.model, run.optimizer, scaler, run.task.loss, raw, target, weight, device,
                   amp=amp)
        if run.scheduler is not None:
            run.scheduler.step()
        if i:  # the first step allocates
            times.append(time.perf_counter() - start)
    return times


def timed_training(run, warmup: int, device: str = "cpu") -> tuple[list[float], list[float]]:
    """Train ``run`` with ``train_run``; per iteration after ``warmup``: (wall seconds, seconds
    waiting in ``next_batch``)."""
    from dacapo.train import train_run

    starts, waits = [], []
    next_batch = run.trainer.next_batch

    def timed_next_batch(iteration):
        start = time.perf_counter()
        batch = next_batch(iteration)
        starts.append(start)
        waits.append(time.perf_counter() - start)
        return batch

    run.trainer.next_batch = timed_next_batch
    train_run(run, validate=False, device=device)
    starts.append(time.perf_counter())  # end of the last iteration (+ final checkpoint)
    walls = [b - a for a, b in zip(starts[:-1], starts[1:])]
    # the last iteration's wall includes the final checkpoint: leave it out
    return walls[warmup:-1], waits[warmup:-1]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    parser.add_argument("--fetchers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=4)
    parser.add_argument("--input", type=int, default=100, help="UNet input edge (voxels)")
    parser.add_argument("--num-fmaps", type=int, default=12)
    parser.add_argument("--fmap-inc-factor", type=int, default=3)
    parser.add_argument("--volume", type=int, default=192, help="train volume edge (voxels)")
    parser.add_argument("--torch-threads", type=int, default=None,
                        help="torch threads of the training process (default: torch's)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (see gpu_check.sh)")
    args = parser.parse_args(argv)
    if args.quick:
        args.iterations, args.warmup, args.input, args.num_fmaps = 6, 2, 100, 2
        args.fmap_inc_factor, args.volume = 2, 128

    import torch

    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)

    from dacapo.experiments.run import Run

    device_name = gpu_name(args.device)
    with tempfile.TemporaryDirectory(prefix="dacapo-bench-") as tmp:
        tmp = Path(tmp)
        use_temporary_stores(tmp)

        def make_run(name, fetchers, iterations):
            return Run(tutorial_kind_run_config(
                tmp, name, input_size=args.input, num_fmaps=args.num_fmaps,
                fmap_inc_factor=args.fmap_inc_factor, num_data_fetchers=fetchers,
                volume=args.volume, iterations=iterations,
            ))

        # one batch of the training shape, and the data pipeline's cost per batch in process
        probe = make_run("bench_probe", 0, 1)
        trainer = probe.trainer
        trainer.build_batch_provider(probe.datasplit.train, probe.model, probe.task, seed=0)
        with trainer:
            batch = trainer.next_batch(0)
            start = time.process_time()
            for i in range(1, 4):
                trainer.next_batch(i)
            cpu_per_batch = (time.process_time() - start) / 3
        shape = {k: list(v.shape) for k, v in batch.items() if k in ("raw", "target")}
        params = sum(p.numel() for p in probe.model.parameters())

        def report_bare(when):
            times = bare_step_seconds(make_run("bench_bare", 0, 1), batch,
                                      max(3, args.iterations // 3), args.device)
            best = min(times)
            median = statistics.median(times)
            emit({"bench": "training", "what": "bare_step", "when": when, "steps": len(times),
                  "median_s": round(median, 4), "best_s": round(best, 4),
                  "its_per_s": round(1 / median, 3), "torch_threads": torch.get_num_threads(),
                  "shapes": shape, "parameters": params, "device": device_name})
            return median

        previous = report_bare("first")
        for fetchers in args.fetchers:
            run = make_run(f"bench_train_{fetchers}", fetchers, args.iterations + args.warmup + 1)
            walls, waits = timed_training(run, args.warmup, args.device)
            following = report_bare(f"after {fetchers} fetchers")
            bare = (previous + following) / 2
            previous = following
            wall = sum(walls)
            emit({
                "bench": "training", "what": "training", "num_data_fetchers": fetchers,
                "iterations": len(walls), "its_per_s": round(len(walls) / wall, 3),
                "median_iteration_s": round(statistics.median(walls), 4),
                "bare_step_s": round(bare, 4),
                "ratio": round(bare * len(walls) / wall, 3), "target_ratio": ">= 0.9",
                "data_wait_fraction": round(sum(waits) / wall, 3), "target_wait": "<= 0.1",
                "cpu_per_batch_s": round(cpu_per_batch, 3), "cores": cores(),
                "torch_threads": torch.get_num_threads(), "shapes": shape,
                "input": args.input, "num_fmaps": args.num_fmaps,
                "fmap_inc_factor": args.fmap_inc_factor, "device": device_name,
            })


if __name__ == "__main__":
    main()
