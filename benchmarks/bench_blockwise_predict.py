"""Blockwise prediction (daisy, ``dacapo.predict``) vs the bare model forward on the same blocks.

A fresh (untrained: the rate does not depend on the weights) 3D UNet with two downsampling
levels predicts a generated volume whose output ROI is ``--blocks`` eval output blocks (60³
voxels each, from 100³ inputs). The bare forward is the model's forward pass over the same
eval-shape blocks, model resident, inputs already in memory (no I/O), all cores. Blockwise
prediction runs with ``LocalTorch`` and 1 worker (in process) and 2 workers (subprocesses, each
building the model and loading the weights once; 1 torch thread each on 2 cores); it reads the
raw from zarr, writes float32 predictions to zarr and records every block.

Prints JSON lines: ``bare_forward`` runs, and one ``blockwise`` line per worker count (and
repeat), with the end-to-end rate (worker start-up, model building, weights loading included)
and the steady-state rate (from the first to the last completed block, so start-up excluded),
and their ratios to the bare forward rate measured just before and just after it (the machine
may be shared; target ≥ 0.8).

Run: ``.venv/bin/python benchmarks/bench_blockwise_predict.py [--blocks 3 3 2] [--workers 1 2]
[--device cuda]`` (on CUDA, both run in mixed precision and each worker has a GPU of its own).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.e2e.helpers


def bare_forward(bundle, raw, rois, predictor_cls, device: str = "cpu") -> float:
    """Seconds spent in the model's forward passes over ``rois`` (model resident; each input is
    read before its forward pass and only the forward pass is timed: no I/O. Reading them all
    first and then timing the loop was 1.5x slower here: the 48 resident inputs changed how the
    activations' memory was allocated)."""
    import torch

    from dacapo.utils.torch_utils import autocast, memory_format, place_model, to_tensor

    predictor = predictor_cls(bundle.model, raw, device=device, raw_transform=bundle.inference_transform)
    device = predictor.device
    place_model(bundle.model, device)
    bundle.model.eval()
    fmt = memory_format(bundle.model)
    seconds = 0.0
    cuda = device.type == "cuda"
    with torch.inference_mode(), autocast(device):  # as blockwise prediction runs it
        bundle.model(to_tensor(predictor._read(rois[0])[None], device, fmt))  # warm-up
        for roi in rois:
            x = to_tensor(predictor._read(roi)[None], device, fmt)
            if cuda:
                torch.cuda.synchronize()
            start = time.perf_counter()
            bundle.model(x)
            if cuda:
                torch.cuda.synchronize()
            seconds += time.perf_counter() - start
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--blocks", type=int, nargs=3, default=[3, 3, 2])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--device", default="cpu", help="cpu or cuda (workers: one per GPU)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        os.environ.update(
            DACAPO_RUNS_BASE_DIR=str(tmp / "runs"),
            DACAPO_TYPE="files",
            DACAPO_OPTIONS_FILE=str(tmp / "none.yaml"),
        )
        os.environ.pop("DACAPO_COMPUTE_CONTEXT", None)
        import attrs
        import numpy as np
        import torch
        from funlib.geometry import Coordinate, Roi

        from dacapo.blockwise import Bookkeeping
        from dacapo.blockwise.predict_task import ModelBundle, input_array_config
        from dacapo.compute_context import LocalTorch
        from dacapo.experiments.architectures import CNNectomeUNetConfig
        from dacapo.predict import predict
        from dacapo.predict_local import BlockPredictor
        from dacapo.store.create_store import create_config_store, create_weights_store
        from dacapo.utils.synthetic import write_cells
        from tests.e2e.helpers import small_run_config

        from _common import gpu_name

        device_name = gpu_name(args.device)

        architecture = CNNectomeUNetConfig(
            name="bench_blockwise_unet", input_shape=(76, 76, 76), fmaps_out=12, fmaps_in=1,
            num_fmaps=12, fmap_inc_factor=2, downsample_factors=[(2, 2, 2), (2, 2, 2)],
            eval_shape_increase=(24, 24, 24),
        )
        config = attrs.evolve(
            small_run_config(tmp, name="bench_blockwise"), architecture_config=architecture
        )
        create_config_store().store_run_config(config)
        bundle = ModelBundle(config)
        create_weights_store().store_weights(config.name, 0, {"model": bundle.model.state_dict()})

        eval_input = bundle.model.eval_input_shape
        _, eval_output = bundle.model.compute_output_shape(eval_input)
        context = (eval_input - eval_output) / 2
        output_shape = Coordinate(args.blocks) * eval_output
        voxel_size = Coordinate(8, 8, 8)
        data = write_cells(tmp / "raw.zarr", tuple(output_shape + context * 2),
                           voxel_size=tuple(voxel_size), seed=3, num_objects=40)
        output_roi = Roi(context * voxel_size, output_shape * voxel_size)
        # the reader blockwise prediction uses (its reads are not timed in the bare forward)
        raw = input_array_config(config, data.container, "raw").array("r")
        probe = BlockPredictor(bundle.model, raw, device=args.device)
        rois = probe.write_rois(output_roi)
        voxels = int(np.prod(output_shape))
        block_voxels = int(np.prod(eval_output))
        cores = len(os.sched_getaffinity(0))

        def report_forward(when):
            seconds = bare_forward(bundle, raw, rois, BlockPredictor, args.device)
            line = {"what": "bare_forward", "when": when, "blocks": len(rois),
                    "eval_input": list(eval_input), "eval_output": list(eval_output),
                    "torch_threads": torch.get_num_threads(), "seconds": round(seconds, 3),
                    "voxels_per_s": round(voxels / seconds), "device": device_name}
            print(json.dumps(line), flush=True)
            return seconds

        # the machine may be shared: bracket every blockwise run by bare forward runs and
        # compare it with their mean
        previous = report_forward("first")
        for repeat in range(args.repeat):
            for workers in args.workers:
                output = tmp / f"out{workers}_{repeat}.zarr" / "prediction"
                start = time.perf_counter()
                predict(config.name, 0, data.container, "raw", output, output_roi=output_roi,
                        num_workers=workers, compute_context=LocalTorch(device=args.device),
                        progress=False)
                seconds = time.perf_counter() - start
                records = Bookkeeping.for_array(output.parent, "prediction").done()
                times = sorted(r["time"] for r in records.values())
                # steady state: the blocks completed after the first one of each worker, over
                # the time they took (worker start-up excluded)
                first = times[min(workers, len(times)) - 1]
                steady_blocks = sum(1 for t in times if t > first)
                steady = (times[-1] - first) / steady_blocks if steady_blocks else None
                following = report_forward(f"after {workers} workers")
                per_block_forward = (previous + following) / 2 / len(rois)
                previous = following
                print(json.dumps({
                    "what": "blockwise", "workers": workers,
                    "processes": len({r["pid"] for r in records.values()}), "cores": cores,
                    "blocks": len(rois), "seconds": round(seconds, 3),
                    "voxels_per_s": round(voxels / seconds),
                    "steady_seconds_per_block": steady and round(steady, 3),
                    "steady_voxels_per_s": steady and round(block_voxels / steady),
                    "bare_seconds_per_block": round(per_block_forward, 3),
                    "ratio_end_to_end": round(per_block_forward * len(rois) / seconds, 3),
                    "ratio_steady": steady and round(per_block_forward / steady, 3),
                    "target": ">= 0.8", "device": device_name,
                    "load_average": round(os.getloadavg()[0], 2),
                }), flush=True)


if __name__ == "__main__":
    main()
