"""The GPU fast paths, one at a time: the bare training step (``bench_training.bare_step_seconds``,
i.e. ``dacapo.train.train_step`` on one resident batch) with mixed precision (AMP), TF32 and
channels-last 3D each on and off, on a run of the tutorial's kind; plus what the machine is.

Prints JSON lines: one ``environment`` line (torch, CUDA, GPU names, cores) and one ``step`` line
per variant with its median seconds and its speed relative to training's defaults (all on).
Called by ``gpu_check.sh``; ``--quick --device cpu`` is the smoke mode (AMP and TF32 do nothing
on CPU).

    python benchmarks/gpu_check.py [--device cuda] [--quick] [--steps 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path

from _common import cores, emit, gpu_name, tutorial_kind_run_config, use_temporary_stores
from bench_training import bare_step_seconds

#: (amp, tf32, channels_last): training's defaults first
VARIANTS = [
    (True, True, True),
    (False, True, True),
    (False, False, True),
    (True, True, False),
    (False, False, False),
]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--input", type=int, default=132, help="UNet input edge (voxels)")
    parser.add_argument("--num-fmaps", type=int, default=12)
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.input, args.num_fmaps = 2, 100, 2

    import torch

    emit({
        "bench": "gpu_check", "what": "environment", "torch": torch.__version__,
        "cuda": torch.version.cuda, "cudnn": torch.backends.cudnn.version(),
        "gpus": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())],
        "bf16": torch.cuda.is_available() and torch.cuda.is_bf16_supported(),
        "device": gpu_name(args.device), "cores": cores(),
        "nccl": torch.distributed.is_nccl_available(),
    })
    from dacapo.experiments.run import Run

    with tempfile.TemporaryDirectory(prefix="dacapo-gpu-check-") as tmp:
        tmp = Path(tmp)
        use_temporary_stores(tmp)
        config = tutorial_kind_run_config(
            tmp, "gpu_check", input_size=args.input, num_fmaps=args.num_fmaps, fmap_inc_factor=3,
            num_data_fetchers=0, volume=max(160, args.input + 40), iterations=1,
        )
        probe = Run(config)
        trainer = probe.trainer
        trainer.build_batch_provider(probe.datasplit.train, probe.model, probe.task, seed=0)
        with trainer:
            batch = trainer.next_batch(0)
        bare_step_seconds(Run(config), batch, 1, args.device)  # warm-up: first allocations, cuDNN
        baseline = None
        for amp, tf32, channels_last in VARIANTS:
            times = bare_step_seconds(Run(config), batch, args.steps, args.device, amp=amp,
                                      tf32=tf32, channels_last=channels_last)
            median = statistics.median(times)
            baseline = baseline or median
            emit({
                "bench": "gpu_check", "what": "step", "amp": amp, "tf32": tf32,
                "channels_last": channels_last, "steps": len(times),
                "median_s": round(median, 4), "its_per_s": round(1 / median, 3),
                "relative_to_defaults": round(baseline / median, 3),
                "raw_shape": list(batch["raw"].shape), "device": gpu_name(args.device),
                "max_memory_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2)
                if args.device.startswith("cuda") else None,
            })
            if args.device.startswith("cuda"):
                torch.cuda.reset_peak_memory_stats()


if __name__ == "__main__":
    os.environ.setdefault("PYTORCH_NVML_BASED_CUDA_CHECK", "1")
    main()
