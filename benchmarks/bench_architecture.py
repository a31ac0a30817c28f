"""Time CNNectome UNets on this machine: forward (inference) and a training step
(forward + backward + RAdam step). Prints one JSON line per measurement.

    .venv/bin/python benchmarks/bench_architecture.py --case tutorial --batch 2 --steps 1
    .venv/bin/python benchmarks/bench_architecture.py --case small --steps 3
    .venv/bin/python benchmarks/bench_architecture.py --case tutorial --batch 1 --eval-shape
    .venv/bin/python benchmarks/bench_architecture.py            # both, each in its own process

Cases: ``tutorial`` is the seed tutorial's architecture exactly (216^3 input, 12 fmaps x6, factors
2,3,3, super-resolution x2, valid); ``small`` a 4-level 3D UNet (108^3 input -> 16^3, 12 fmaps
x2, factors 2,2,2; about 1 s per training step).
GFLOP/s counts multiply-adds as 2 FLOPs, convolutions only; a training step counts 3x the forward.
Peak RSS is the process high-water mark (each case runs in its own process). ``cpu_s`` is the
process CPU time (all threads): on a busy machine, cpu_s / threads approximates the idle wall time.
``load1`` is the 1-minute load average when the record was written.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time

CASES = {
    "tutorial": dict(
        name="example_attention-upsample-unet", input_shape=(216, 216, 216), fmaps_out=72, fmaps_in=1,
        num_fmaps=12, fmap_inc_factor=6, downsample_factors=[(2, 2, 2), (3, 3, 3), (3, 3, 3)],
        kernel_size_down=None, kernel_size_up=None, eval_shape_increase=(72, 72, 72),
        upsample_factors=[(2, 2, 2)], constant_upsample=True, padding="valid",
    ),
    "small": dict(
        name="small_unet", input_shape=(108, 108, 108), fmaps_out=12, fmaps_in=1, num_fmaps=12,
        fmap_inc_factor=2, downsample_factors=[(2, 2, 2)] * 3,
    ),
}


def rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def emit(**record) -> None:
    print(json.dumps({**record, "load1": round(os.getloadavg()[0], 2)}), flush=True)


def conv_flops(model, x) -> int:
    """FLOPs of one forward, from hooks on every convolution."""
    import torch

    total = [0]

    def hook(m, inputs, out):
        k = math.prod(m.kernel_size)
        if isinstance(m, torch.nn.modules.conv._ConvTransposeNd):
            voxels = inputs[0].shape[0] * math.prod(inputs[0].shape[2:])
        else:
            voxels = out.shape[0] * math.prod(out.shape[2:])
        total[0] += 2 * m.in_channels // m.groups * m.out_channels * k * voxels

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, torch.nn.modules.conv._ConvNd)]
    with torch.no_grad():
        model.eval()
        model(x)
    for h in handles:
        h.remove()
    return total[0]


def run_case(case: str, batch: int, steps: int, threads: int, channels_last: bool, flops_only: bool,
             eval_shape: bool = False) -> None:
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    from dacapo.experiments.architectures import CNNectomeUNetConfig
    from dacapo.experiments.model import Model

    config = CNNectomeUNetConfig(**CASES[case])
    t0 = time.perf_counter()
    arch = config.architecture_type(config)
    model = Model(arch, torch.nn.Conv3d(config.fmaps_out, 1, 1))
    build_s = time.perf_counter() - t0
    params = sum(p.numel() for p in model.parameters())
    base = dict(case=case, batch=batch, threads=threads, channels_last=channels_last,
                input_shape=list(config.input_shape), output_shape=list(model.output_shape),
                params_M=round(params / 1e6, 3), torch=torch.__version__)
    emit(**base, phase="build", seconds=round(build_s, 2), peak_rss_GB=round(rss_gb(), 2))

    fmt = torch.channels_last_3d if channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)
    shape = model.eval_input_shape if eval_shape else model.input_shape
    base.update(input_shape=list(shape), output_shape=list(model.compute_output_shape(shape)[1]))
    x = torch.randn(batch, config.fmaps_in, *shape).to(memory_format=fmt)
    target = torch.randn(batch, 1, *model.output_shape)

    # FLOPs from a small forward at the same architecture is not exact: count on the real input once
    # with the first timed forward instead.
    t0, c0 = time.perf_counter(), time.process_time()
    flops = conv_flops(model, x)
    fwd_s = time.perf_counter() - t0
    emit(**base, phase="forward", seconds=round(fwd_s, 2), cpu_s=round(time.process_time() - c0, 2),
         GFLOP=round(flops / 1e9, 1),
         GFLOP_per_s=round(flops / 1e9 / fwd_s, 1), peak_rss_GB=round(rss_gb(), 2))
    if flops_only:
        return

    model.train()
    optimizer = torch.optim.RAdam(model.parameters(), lr=1e-4)
    loss_fn = torch.nn.MSELoss()
    for step in range(steps):
        t0, c0 = time.perf_counter(), time.process_time()
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), target)
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        optimizer.step()
        t3 = time.perf_counter()
        emit(**base, phase="train_step", step=step, seconds=round(t3 - t0, 2),
             cpu_s=round(time.process_time() - c0, 2),
             forward_s=round(t1 - t0, 2), backward_s=round(t2 - t1, 2), optimizer_s=round(t3 - t2, 2),
             GFLOP=round(3 * flops / 1e9, 1), GFLOP_per_s=round(3 * flops / 1e9 / (t3 - t0), 1),
             peak_rss_GB=round(rss_gb(), 2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--case", choices=[*CASES, "all"], default="all")
    parser.add_argument("--batch", type=int, default=None, help="default: 2 (tutorial), 1 (small)")
    parser.add_argument("--steps", type=int, default=None, help="training steps; default 1 (tutorial), 3 (small)")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--flops-only", action="store_true", help="only build and one forward")
    parser.add_argument("--eval-shape", action="store_true",
                        help="one forward (prediction) at the eval input shape; no training")
    args = parser.parse_args()
    if args.case == "all":
        for case in CASES:
            cmd = [sys.executable, __file__, "--case", case, "--threads", str(args.threads)]
            cmd += ["--batch", str(args.batch)] if args.batch else []
            cmd += ["--steps", str(args.steps)] if args.steps is not None else []
            cmd += ["--channels-last"] if args.channels_last else []
            cmd += ["--flops-only"] if args.flops_only else []
            cmd += ["--eval-shape"] if args.eval_shape else []
            subprocess.run(cmd, check=True)
        return
    batch = args.batch or (2 if args.case == "tutorial" else 1)
    steps = args.steps if args.steps is not None else (1 if args.case == "tutorial" else 3)
    run_case(args.case, batch, steps, args.threads, args.channels_last, args.flops_only or args.eval_shape,
             args.eval_shape)


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    main()
