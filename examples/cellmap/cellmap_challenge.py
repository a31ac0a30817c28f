"""The CellMap Segmentation Challenge workflow with DaCapo, on generated data.

1. Writes a small multi-class dataset in the challenge layout: two datasets
   (``<root>/<ds>/<ds>.zarr/recon-1/em/fibsem-uint8/s0,s1``) with ground-truth crops
   (``labels/groundtruth/crop<N>/<class>/s0,s1``) of ``mito`` (instance class), ``mito_mem`` and
   ``ecs`` (semantic classes); some crops lack ``mito_mem``, as in the challenge.
2. Holds one crop per dataset out as the test set, crawls the rest into the toolkit's datasplit
   CSV and builds a DaCapo datasplit from it (classes masked where a crop lacks them).
3. Trains a small 3D UNet on a distance task (one channel per class).
4. Predicts the test crops blockwise, post-processes (threshold at 0; connected components for
   the instance class), writes the submission zarr and zips it.
5. Scores the zip with the challenge's scoring against the test crops and prints the JSON.

    python examples/cellmap/cellmap_challenge.py [--iterations 300] [--out DIR] [--small]

``--small`` (or ``CELLMAP_EXAMPLE_SMALL=1``): a few iterations, for tests.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

CLASSES = ["mito", "mito_mem", "ecs"]
INSTANCE_CLASSES = ["mito"]


def run_config(datasplit, iterations: int):
    from dacapo.experiments import RunConfig
    from dacapo.experiments.architectures import CNNectomeUNetConfig
    from dacapo.experiments.tasks import DistanceTaskConfig
    from dacapo.experiments.trainers import GunpowderTrainerConfig
    from dacapo.experiments.trainers.gp_augments import (
        IntensityAugmentConfig,
        IntensityScaleShiftAugmentConfig,
        SimpleAugmentConfig,
    )

    return RunConfig(
        name="cellmap_example",
        datasplit_config=datasplit,
        task_config=DistanceTaskConfig(
            name="cellmap_distances", channels=CLASSES, clip_distance=40.0, tol_distance=40.0,
            scale_factor=20.0,
        ),
        architecture_config=CNNectomeUNetConfig(
            name="cellmap_unet",
            input_shape=(36, 36, 36),
            fmaps_out=8,
            fmaps_in=1,
            num_fmaps=8,
            fmap_inc_factor=2,
            downsample_factors=[(2, 2, 2)],
            eval_shape_increase=(24, 24, 24),
        ),
        trainer_config=GunpowderTrainerConfig(
            name="cellmap_trainer",
            batch_size=2,
            learning_rate=3e-3,
            num_data_fetchers=1,
            augments=[
                SimpleAugmentConfig(),
                IntensityAugmentConfig(scale=(0.9, 1.1), shift=(-0.05, 0.05), clip=True),
                IntensityScaleShiftAugmentConfig(scale=2.0, shift=-1.0),
            ],
            snapshot_interval=max(iterations, 1),
            min_masked=0.0,
            warmup_iterations=0,
        ),
        num_iterations=iterations,
        validation_interval=max(iterations, 1),
    )


def post_process(prediction, label: str):
    """Threshold a tanh distance channel at 0; instances: connected components."""
    import numpy as np
    from skimage.measure import label as connected_components

    mask = prediction > 0
    if label in INSTANCE_CLASSES:
        return connected_components(mask, connectivity=1).astype(np.uint64)
    return mask.astype(np.uint8)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="working directory (default: a temp dir)")
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--small", action="store_true", default=bool(os.environ.get("CELLMAP_EXAMPLE_SMALL")))
    args = parser.parse_args(argv)
    iterations = min(args.iterations, 12) if args.small else args.iterations

    base = args.out or Path(tempfile.mkdtemp(prefix="dacapo-cellmap-"))
    base.mkdir(parents=True, exist_ok=True)
    os.environ.update(
        DACAPO_RUNS_BASE_DIR=str(base / "runs"),
        DACAPO_TYPE="files",
        DACAPO_OPTIONS_FILE=str(base / "dacapo.yaml"),
    )
    from funlib.geometry import Coordinate, Roi

    from dacapo.cellmap import (
        datasplit_config,
        make_datasplit_csv,
        score_submission,
        truth_from_layout,
        write_submission,
        zip_submission,
    )
    from dacapo.cellmap.evaluate import json_safe
    from dacapo.cellmap.layout import RAW_NAME, RECON
    from dacapo.cellmap.synthetic import write_challenge_layout
    from dacapo.experiments.run import Run
    from dacapo.predict import predict
    from dacapo.store.create_store import create_config_store
    from dacapo.train import train_run
    from dacapo.utils.arrays import open_array

    started = time.perf_counter()
    data = base / "data"
    crops = write_challenge_layout(
        data, shape=(72, 72, 72) if args.small else (96, 96, 96), crops_per_dataset=4,
        crop_shape=(32, 32, 32) if args.small else (40, 40, 40), num_objects=12 if args.small else 40,
    )
    test = [c for i, c in enumerate(crops) if i % 4 == 3]  # the last crop of each dataset
    train_crops = [c.crop for c in crops if c not in test]
    print(f"[data] {len(crops)} crops under {data}; test crops {[c.crop for c in test]}")

    rows = make_datasplit_csv(
        data, CLASSES, base / "datasplit.csv", validation_ratio=0.2, crops=train_crops, seed=1
    )
    print(f"[datasplit] {base / 'datasplit.csv'}: {sum(u == 'train' for u, _, _ in rows)} train, "
          f"{sum(u == 'validate' for u, _, _ in rows)} validate crops")
    datasplit = datasplit_config(base / "datasplit.csv", CLASSES, (8, 8, 8), name="cellmap_synth")

    config = run_config(datasplit, iterations)
    store = create_config_store()
    store.store_run_config(config)
    train_run(Run(store.retrieve_run_config(config.name)), validate=False)
    print(f"[train] {iterations} iterations ({time.perf_counter() - started:.0f} s so far)")

    predictions: dict = {}
    for crop in test:
        container = data / crop.dataset / f"{crop.dataset}.zarr"
        shape = next(iter(crop.labels.values())).shape
        roi = Roi(Coordinate(crop.translation), Coordinate(shape) * Coordinate(crop.voxel_size))
        output = predict(
            config.name, iterations, container, f"{RECON}/{RAW_NAME}/s0",
            base / "predictions.zarr" / crop.crop, output_roi=roi, num_workers=1, progress=False,
        )
        array = open_array(output)
        values = array[roi]
        predictions[crop.crop] = {
            label: (post_process(values[i], label), tuple(array.voxel_size), tuple(roi.offset))
            for i, label in enumerate(CLASSES)
        }
    submission = write_submission(base / "submission.zarr", predictions, instance_classes=INSTANCE_CLASSES)
    archive = zip_submission(submission)
    print(f"[submission] {submission} -> {archive}")

    truth = truth_from_layout(data, crops=[c.crop for c in test])
    result = json_safe(score_submission(archive, truth, instance_classes=INSTANCE_CLASSES))
    summary = {
        "overall_score": result["overall_score"],
        "overall_instance_score": result["overall_instance_score"],
        "overall_semantic_score": result["overall_semantic_score"],
        "label_scores": result["label_scores"],
        "submission": str(archive),
        "iterations": iterations,
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
