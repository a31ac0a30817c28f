#!/usr/bin/env python
"""Neuron segmentation on real EM, end to end: affinities on ISBI 2012 (dense neuron labels).

1. converts the PNG sections (``dacapo.utils.isbi``): sections 0-19 train, 20-24 validate,
   25-29 held out (test); labels are the 4-connected cell interiors (0 = membrane);
2. trains an affinities task (in-plane offsets 1, 3 and 9) with a small 2D-ish UNet and validates
   at the end over the post-processor's whole sweep (mutex watershed biases), scored on the cell
   interiors (the validation dataset's mask); prints the named scores with the baselines;
3. applies the best iteration and bias blockwise to the held-out sections, full size (output =
   the whole input, borders mirrored);
4. scores on the held-out sections (cell interiors): the blockwise segmentation, the same
   post-processing on the whole stored prediction, the baselines (one segment; every fragment:
   the watershed fragments of the predicted boundaries, none merged; every voxel) and a plain
   watershed of the raw membrane intensity (skimage) -- and writes them to ``results.json``.

Usage::

    python examples/isbi2012/affinities_isbi2012.py --iterations 300
    python examples/isbi2012/affinities_isbi2012.py --iterations 2 --size 96   # quick check
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

DEFAULT_SOURCE = Path(__file__).resolve().parents[3] / "shared" / "data" / "isbi2012"
VOXEL_SIZE = (50, 4, 4)
NEIGHBORHOOD = [(0, 1, 0), (0, 0, 1), (0, 3, 0), (0, 0, 3), (0, 9, 0), (0, 0, 9)]
SECTIONS = {"train": range(0, 20), "validate": range(20, 25), "test": range(25, 30)}


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (daisy workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def convert(args) -> dict:
    from dacapo.utils.isbi import convert_isbi2012

    return {
        part: convert_isbi2012(args.source, args.output / f"isbi2012_{part}.zarr", sections,
                               size=args.size)
        for part, sections in SECTIONS.items()
    }


def dataset_config(volume, name: str, interior_mask: bool):
    from dacapo.experiments.datasplits.datasets import RawGTDatasetConfig
    from dacapo.experiments.datasplits.datasets.arrays import (
        BinarizeArrayConfig,
        IntensitiesArrayConfig,
        ZarrArrayConfig,
    )

    labels = ZarrArrayConfig(name=f"{name}_labels", file_name=volume.container, dataset="labels")
    raw = IntensitiesArrayConfig(
        name=f"{name}_raw", min=0.0, max=255.0,
        source_array_config=ZarrArrayConfig(name=f"{name}_raw_uint8",
                                            file_name=volume.container, dataset="raw"),
    )
    # scores count the cell interiors only (dense labels: membranes have no id); training sees
    # every voxel (affinities into membranes must be learned as 0)
    mask = BinarizeArrayConfig(name=f"{name}_interior", source_array_config=labels,
                               groupings=[("interior", [])], background=0) if interior_mask else None
    return RawGTDatasetConfig(name=name, weight=1, raw_config=raw, gt_config=labels,
                              mask_config=mask)


def run_config(args, volumes):
    from dacapo.experiments import RunConfig
    from dacapo.experiments.architectures import CNNectomeUNetConfig
    from dacapo.experiments.datasplits import TrainValidateDataSplitConfig
    from dacapo.experiments.tasks import AffinitiesTaskConfig
    from dacapo.experiments.trainers import GunpowderTrainerConfig

    datasplit = TrainValidateDataSplitConfig(
        name=f"{args.name}_split",
        train_configs=[dataset_config(volumes["train"], "train", interior_mask=False)],
        validate_configs=[dataset_config(volumes["validate"], "validate", interior_mask=True)],
    )
    task = AffinitiesTaskConfig(name=f"{args.name}_affs", neighborhood=NEIGHBORHOOD)
    architecture = CNNectomeUNetConfig(
        name=f"{args.name}_unet2d", input_shape=(1, args.input_size, args.input_size),
        eval_shape_increase=(0, 64, 64), fmaps_in=1, num_fmaps=args.num_fmaps,
        fmaps_out=args.num_fmaps, fmap_inc_factor=2,
        downsample_factors=[(1, 2, 2), (1, 2, 2)],
        kernel_size_down=[[(1, 3, 3), (1, 3, 3)]] * 3,
        kernel_size_up=[[(1, 3, 3), (1, 3, 3)]] * 2, constant_upsample=True,
    )
    trainer = GunpowderTrainerConfig(
        name=f"{args.name}_trainer", batch_size=2, learning_rate=1e-3, optimizer="Adam",
        num_data_fetchers=0, augments=[], snapshot_interval=None, min_masked=0.0,
        warmup_iterations=0,
    )
    return RunConfig(
        name=f"{args.name}_run", datasplit_config=datasplit, task_config=task,
        architecture_config=architecture, trainer_config=trainer,
        num_iterations=args.iterations, validation_interval=args.iterations, repetition=0,
        seed=0,
    )


# --- references on the held-out sections ---------------------------------------------------------
def fragments(affinities: np.ndarray) -> np.ndarray:
    """Watershed fragments of the predicted boundaries (1 - mean of the nearest affinities), per
    section, seeded at the local maxima of the smoothed mean affinity; none merged."""
    from scipy.ndimage import gaussian_filter
    from skimage.feature import peak_local_max
    from skimage.segmentation import watershed

    mean = affinities[:2].mean(axis=0)
    out = np.zeros(mean.shape, dtype=np.uint64)
    next_id = 1
    for z, plane in enumerate(mean):
        smooth = gaussian_filter(plane, 1.0)
        seeds = np.zeros(plane.shape, dtype=np.int64)
        peaks = peak_local_max(smooth, min_distance=3, exclude_border=False)
        seeds[tuple(peaks.T)] = np.arange(next_id, next_id + len(peaks))
        next_id += len(peaks)
        out[z] = watershed(1.0 - smooth, seeds)
    return out


def raw_watershed(raw: np.ndarray, sigma: float = 2.0) -> np.ndarray:
    """A plain watershed of the raw membrane intensity (membranes are dark), per section:
    seeds are the bright regions above Otsu's threshold of the smoothed raw."""
    from scipy.ndimage import gaussian_filter, label
    from skimage.filters import threshold_otsu
    from skimage.segmentation import watershed

    out = np.zeros(raw.shape, dtype=np.uint64)
    next_id = 1
    for z, plane in enumerate(raw.astype(np.float32)):
        smooth = gaussian_filter(plane, sigma)
        seeds, count = label(smooth > threshold_otsu(smooth))
        seeds[seeds > 0] += next_id - 1
        next_id += count
        out[z] = watershed(-smooth, seeds)
    return out


def held_out_scores(args, run_config, iteration, parameters, segmentation_id, prediction_id):
    """Scores against the held-out labels, on the cell interiors."""
    from funlib.persistence import open_ds

    from dacapo.blockwise.arrays import decode
    from dacapo.experiments.tasks.evaluators.instance_evaluator import instance_scores

    test = args.output / "isbi2012_test.zarr"
    gt_array = open_ds(str(test / "labels"))
    roi = gt_array.roi
    gt = gt_array[roi]
    raw = open_ds(str(test / "raw"))[roi]
    interior = gt != 0
    segmentation = open_ds(str(segmentation_id.container / segmentation_id.dataset))
    prediction_array = open_ds(str(prediction_id.container / prediction_id.dataset))
    prediction = decode(prediction_array[roi], dict(prediction_array._source_data.attrs))
    task = run_config.task_config.task_type(run_config.task_config)
    whole = task.post_processor.process(parameters, prediction)
    candidates = {
        f"dacapo blockwise (iteration {iteration}, {parameters})": segmentation[roi],
        f"dacapo whole volume (same prediction, {parameters})": whole,
        "baseline one_segment": np.ones_like(gt),
        "baseline every_fragment": fragments(prediction),
        "baseline every_voxel": np.arange(1, gt.size + 1, dtype=np.uint64).reshape(gt.shape),
        "plain watershed of raw (skimage)": raw_watershed(raw),
    }
    rows = {}
    for name, labels in candidates.items():
        scores = instance_scores(labels, gt, interior)
        rows[name] = {
            "voi_split": scores.voi_split, "voi_merge": scores.voi_merge, "voi": scores.voi,
            "adapted_rand_error": scores.adapted_rand_error,
            "segments": int(len(np.unique(np.asarray(labels)[interior]))),
        }
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--output", type=Path, default=Path("isbi2012_affinities"),
                        help="where the containers and results.json go")
    parser.add_argument("--name", default="isbi2012_affs")
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--size", type=int, default=None,
                        help="use only the first SIZE x SIZE pixels of each section (quick runs)")
    parser.add_argument("--input-size", type=int, default=196, help="in-plane input (voxels)")
    parser.add_argument("--num-fmaps", type=int, default=12)
    parser.add_argument("--num-workers", type=int, default=1, help="apply's workers")
    parser.add_argument("--runs-base-dir", type=Path, default=None,
                        help="where DaCapo stores configs, weights and scores (default: "
                             "<output>/runs; only a dacapo.yaml there is read)")
    args = parser.parse_args(argv)
    runs_base_dir = (args.runs_base_dir or args.output / "runs").resolve()
    # this process and any worker it starts share these options
    os.environ.update(DACAPO_TYPE="files", DACAPO_RUNS_BASE_DIR=str(runs_base_dir),
                      DACAPO_OPTIONS_FILE=str(runs_base_dir / "dacapo.yaml"))
    logging.basicConfig(level=logging.WARNING, format="%(name)s %(levelname)s: %(message)s")

    from dacapo.apply import apply
    from dacapo.apply import best_parameters as best_parameters_of
    from dacapo.blockwise.predict_task import ModelBundle
    from dacapo.experiments.run import Run
    from dacapo.predict import output_identifier
    from dacapo.store.create_store import create_config_store, create_stats_store
    from dacapo.train import train_run
    from dacapo.validate import format_scores

    timings = {}
    volumes = convert(args)
    config = run_config(args, volumes)
    ok, message = config.datasplit_config.verify()
    if not ok:
        sys.exit(message)
    create_config_store().store_run_config(config)

    start, cpu = time.perf_counter(), cpu_seconds()
    train_run(Run(config))  # validates at the last iteration over the whole sweep
    timings["train_and_validate"] = {"wall_s": time.perf_counter() - start,
                                     "cpu_s": cpu_seconds() - cpu}
    validation = create_stats_store().retrieve_validation_iteration_scores(config.name)[-1]
    print(format_scores(config.name, validation))

    start, cpu = time.perf_counter(), cpu_seconds()
    segmentation = apply(
        config.name, volumes["test"].container, "raw", args.output / "test_output.zarr",
        iteration=args.iterations, criterion="voi", num_workers=args.num_workers,
        full_size=True, progress=False,
    )
    timings["apply_blockwise"] = {"wall_s": time.perf_counter() - start,
                                  "cpu_s": cpu_seconds() - cpu}
    parameters = best_parameters_of(ModelBundle(config), args.iterations, None, "voi")
    prediction = output_identifier(args.output / "test_output.zarr", volumes["test"].container,
                                   f"prediction_{config.name}_{args.iterations}")
    rows = held_out_scores(args, config, args.iterations, parameters, segmentation, prediction)

    print(f"\nheld-out sections {SECTIONS['test'].start}-{SECTIONS['test'].stop - 1} "
          f"({volumes['test'].shape}), cell interiors; iterations {args.iterations}")
    print(f"  {'':52} {'voi_split':>9} {'voi_merge':>9} {'voi':>7} {'arand':>7} {'segments':>8}")
    for name, row in rows.items():
        print(f"  {name:52} {row['voi_split']:9.3f} {row['voi_merge']:9.3f} {row['voi']:7.3f} "
              f"{row['adapted_rand_error']:7.3f} {row['segments']:8d}")
    for step, t in timings.items():
        print(f"  {step}: {t['wall_s']:.0f} s wall, {t['cpu_s']:.0f} s CPU")
    results = {
        "iterations": args.iterations, "size": args.size, "neighborhood": NEIGHBORHOOD,
        "validation": list(validation.rows()), "validation_baselines": validation.baselines,
        "held_out": rows, "timings": timings, "parameters": str(parameters),
    }
    (args.output / "results.json").write_text(json.dumps(results, indent=1))
    return results


if __name__ == "__main__":
    main()
