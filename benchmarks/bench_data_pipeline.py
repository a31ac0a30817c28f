"""Throughput of the training data pipeline alone (no model), by number of data fetchers.

Synthetic zarr volumes (raw float32 and gt labels, 256³ at 8 nm, written once to a temporary
directory), the tutorial's trainer config (batch size 2, its four augments), the distance task's
predictor (tanh signed distance with class-balanced, distance-masked weights; the tutorial's
``scale_factor=160, mask_distances=True``), and a stand-in model with the shapes of a 3-level
valid UNet: input 132³, output 44³.

Prints one JSON line per setting: ``{"bench": "data_pipeline", "num_data_fetchers": n,
"batches_per_s": ..., "samples_per_s": ..., "first_batch_s": ..., ...}``.

    .venv/bin/python benchmarks/bench_data_pipeline.py [--fetchers 0 1 2] [--batches 12]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
import types
from pathlib import Path

from _common import tutorial_trainer_config

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def make_volumes(directory: Path, size: int, voxel: int, seed: int = 0):
    """Raw: smooth noise in [0, 1]; gt: ~100 random balls (labels) — written as zarr."""
    from funlib.persistence import open_ds, prepare_ds
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    shape = (size,) * 3
    gt = np.zeros(shape, dtype=np.uint8)
    zz, yy, xx = np.ogrid[: shape[0], : shape[1], : shape[2]]
    for _ in range(100):
        c = rng.integers(0, size, 3)
        r = rng.integers(4, 16)
        gt[(zz - c[0]) ** 2 + (yy - c[1]) ** 2 + (xx - c[2]) ** 2 <= r * r] = 1
    raw = ndimage.gaussian_filter(rng.random(shape, dtype=np.float32), 2)
    raw = 0.6 * (raw - raw.min()) / (raw.max() - raw.min()) + 0.3 * gt
    raw = np.clip(raw, 0, 1).astype(np.float32)
    arrays = {}
    for name, data in (("raw", raw), ("gt", gt)):
        ds = prepare_ds(
            str(directory / "data.zarr" / name),
            shape=data.shape,
            offset=(0, 0, 0),
            voxel_size=(voxel,) * 3,
            axis_names=["z", "y", "x"],
            units=["nm"] * 3,
            chunk_shape=(64, 64, 64),
            dtype=data.dtype,
            mode="w",
        )
        ds[ds.roi] = data
        arrays[name] = open_ds(str(directory / "data.zarr" / name), mode="r")
    return arrays


def make_predictor():
    try:
        from dacapo.experiments.tasks.predictors.distance_predictor import DistancePredictor

        return DistancePredictor(["peroxisome"], scale_factor=160.0, mask_distances=True), (
            "DistancePredictor"
        )
    except ImportError:  # stand-in: tanh of the signed distance with edt, balanced weights
        import edt

        class Predictor:
            def create_target(self, gt, voxel_size):
                fg = gt != 0
                d = edt.edt(fg, anisotropy=tuple(voxel_size)) - edt.edt(
                    ~fg, anisotropy=tuple(voxel_size)
                )
                return np.tanh(d / 160.0)[None].astype(np.float32)

            def create_weight(self, gt, target, mask, voxel_size):
                fg = gt != 0
                f = min(max(fg.mean(), 0.05), 0.95)
                w = np.where(fg, 0.5 / f, 0.5 / (1 - f)).astype(np.float32)
                return (w * (mask if mask is not None else 1))[None]

        return Predictor(), "edt stand-in"


class StandInModel:
    def __init__(self, input_shape, output_shape):
        from funlib.geometry import Coordinate

        self.input_shape = Coordinate(input_shape)
        self.output_shape = Coordinate(output_shape)
        self.num_in_channels = 1
        self.num_out_channels = 1

    def scale(self, voxel_size):
        return voxel_size


def run(num_data_fetchers, arrays, predictor, batches, warmup, input_size, output_size):
    config = tutorial_trainer_config(num_data_fetchers)
    trainer = config.trainer_type(config)
    dataset = types.SimpleNamespace(
        name="synthetic", weight=1, raw=arrays["raw"], gt=arrays["gt"], mask=None,
        sample_points=None,
    )
    task = types.SimpleNamespace(predictor=predictor)
    model = StandInModel((input_size,) * 3, (output_size,) * 3)
    trainer.build_batch_provider([dataset], model, task, seed=42)
    with trainer:
        start = time.perf_counter()
        trainer.next_batch(0)
        first = time.perf_counter() - start
        for i in range(1, warmup):
            trainer.next_batch(i)
        start = time.perf_counter()
        for i in range(warmup, warmup + batches):
            batch = trainer.next_batch(i)
        elapsed = time.perf_counter() - start
    assert batch["raw"].shape == (2, 1) + (input_size,) * 3
    return {
        "bench": "data_pipeline",
        "num_data_fetchers": num_data_fetchers,
        "batch_size": 2,
        "batches": batches,
        "batches_per_s": round(batches / elapsed, 3),
        "samples_per_s": round(2 * batches / elapsed, 3),
        "s_per_batch": round(elapsed / batches, 3),
        "first_batch_s": round(first, 3),
        "input": [input_size] * 3,
        "output": [output_size] * 3,
        "predictor": None,
        "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "python": platform.python_version(),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fetchers", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--batches", type=int, default=12)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--size", type=int, default=256, help="volume edge (voxels)")
    parser.add_argument("--input", type=int, default=132)
    parser.add_argument("--output", type=int, default=44)
    args = parser.parse_args(argv)

    predictor, predictor_name = make_predictor()
    with tempfile.TemporaryDirectory(prefix="dacapo-bench-") as tmp:
        arrays = make_volumes(Path(tmp), args.size, 8)
        for n in args.fetchers:
            result = run(n, arrays, predictor, args.batches, args.warmup, args.input, args.output)
            result["predictor"] = predictor_name
            result["volume"] = [args.size] * 3
            print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
