"""DaCapo end to end on generated data: train → validate → predict/apply.

1. Writes three synthetic EM-like volumes (cells with a darker membrane, 8 nm voxels) with
   instance labels: one to train on, one to validate on, one to apply the model to.
2. Stores a datasplit, a distance task, a 3D UNet, a gunpowder trainer and a run in a files
   config store under ``--runs-base-dir`` (a temporary directory by default).
3. Trains, validating every ``--validation-interval`` iterations (threshold sweep, dice & co.),
   keeping the best checkpoint.
4. Applies the best checkpoint (by dice) blockwise to the third volume and reports its dice.

    python examples/synthetic_end_to_end.py [--iterations 400] [--runs-base-dir DIR]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path


def build_run_config(data_dir: Path, iterations: int, validation_interval: int):
    from dacapo.experiments import RunConfig
    from dacapo.experiments.architectures import CNNectomeUNetConfig
    from dacapo.experiments.datasplits import TrainValidateDataSplitConfig
    from dacapo.experiments.datasplits.datasets import RawGTDatasetConfig
    from dacapo.experiments.datasplits.datasets.arrays import (
        BinarizeArrayConfig,
        IntensitiesArrayConfig,
        ZarrArrayConfig,
    )
    from dacapo.experiments.tasks import DistanceTaskConfig
    from dacapo.experiments.trainers import GunpowderTrainerConfig
    from dacapo.experiments.trainers.gp_augments import (
        ElasticAugmentConfig,
        GammaAugmentConfig,
        IntensityAugmentConfig,
        IntensityScaleShiftAugmentConfig,
        SimpleAugmentConfig,
    )

    def dataset(name: str) -> RawGTDatasetConfig:
        container = data_dir / f"{name}.zarr"
        return RawGTDatasetConfig(
            name=name,
            weight=1,
            raw_config=IntensitiesArrayConfig(
                name=f"{name}_raw",
                source_array_config=ZarrArrayConfig(
                    name=f"{name}_raw_uint8", file_name=container, dataset="raw"
                ),
                min=0.0,
                max=255.0,
            ),
            gt_config=BinarizeArrayConfig(
                name=f"{name}_cells",
                source_array_config=ZarrArrayConfig(
                    name=f"{name}_labels", file_name=container, dataset="labels"
                ),
                groupings=[("cell", [])],  # every label id is a cell
            ),
        )

    return RunConfig(
        name="synthetic_cells_distances",
        datasplit_config=TrainValidateDataSplitConfig(
            name="synthetic_cells",
            train_configs=[dataset("train")],
            validate_configs=[dataset("validate")],
        ),
        task_config=DistanceTaskConfig(
            name="cell_distances",
            channels=["cell"],
            clip_distance=80.0,
            tol_distance=40.0,
            scale_factor=80.0,
        ),
        architecture_config=CNNectomeUNetConfig(
            name="small_unet",
            input_shape=(68, 68, 68),
            fmaps_out=16,
            fmaps_in=1,
            num_fmaps=8,
            fmap_inc_factor=2,
            downsample_factors=[(2, 2, 2), (2, 2, 2)],
            eval_shape_increase=(32, 32, 32),
        ),
        trainer_config=GunpowderTrainerConfig(
            name="default_augments",
            batch_size=2,
            learning_rate=1e-3,
            num_data_fetchers=1,
            augments=[
                ElasticAugmentConfig(
                    control_point_spacing=[10, 10, 10],
                    control_point_displacement_sigma=[1.0, 1.0, 1.0],
                    rotation_interval=(0.0, 1.5707963267948966),
                    subsample=4,
                ),
                SimpleAugmentConfig(),
                IntensityAugmentConfig(scale=(0.8, 1.2), shift=(-0.1, 0.1), clip=True),
                GammaAugmentConfig(gamma_range=(0.8, 1.25)),
                IntensityScaleShiftAugmentConfig(scale=2.0, shift=-1.0),
            ],
            snapshot_interval=validation_interval,
            min_masked=0.0,
            warmup_iterations=20,
        ),
        num_iterations=iterations,
        validation_interval=validation_interval,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs-base-dir", type=Path, default=None)
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--validation-interval", type=int, default=100)
    args = parser.parse_args()

    base = args.runs_base_dir or Path(tempfile.mkdtemp(prefix="dacapo-example-"))
    base.mkdir(parents=True, exist_ok=True)
    # Everything this process (and any worker it spawns) stores goes under ``base``.
    os.environ.update(
        DACAPO_RUNS_BASE_DIR=str(base / "runs"),
        DACAPO_TYPE="files",
        DACAPO_OPTIONS_FILE=str(base / "dacapo.yaml"),
    )

    from dacapo.experiments.run import Run
    from dacapo.store.create_store import create_config_store, create_stats_store, create_weights_store
    from dacapo.train import train_run
    from dacapo.utils.synthetic import write_cells

    data_dir = base / "data"
    started = time.perf_counter()
    for name, shape, seed, count in [
        ("train", (128, 128, 128), 1, 60),
        ("validate", (96, 96, 96), 2, 25),
        ("apply", (96, 96, 96), 3, 25),
    ]:
        write_cells(data_dir / f"{name}.zarr", shape, voxel_size=(8, 8, 8), seed=seed, num_objects=count)
    print(f"[data] three volumes under {data_dir} ({time.perf_counter() - started:.1f} s)")

    run_config = build_run_config(data_dir, args.iterations, args.validation_interval)
    store = create_config_store()
    store.store_run_config(run_config)
    print(f"[configs] stored run {run_config.name} in {base / 'runs' / 'configs'}")

    train_run(Run(store.retrieve_run_config(run_config.name)))
    stats = create_stats_store().retrieve_training_stats(run_config.name)
    losses = [s.loss for s in stats.iteration_stats]
    print(f"[train] {len(losses)} iterations, loss {losses[0]:.4f} → {sum(losses[-20:]) / min(20, len(losses)):.4f} (mean of last 20)")

    scores = create_stats_store().retrieve_validation_iteration_scores(run_config.name)
    best = create_weights_store().retrieve_best(run_config.name, "validate", "cell__dice")
    for s in scores:
        dice = max(p[0] for p in s.scores[0])
        print(f"[validate] iteration {s.iteration}: best dice over the threshold sweep {dice:.3f}")
    print(f"[validate] best iteration by dice: {best}")

    apply_and_score(run_config, data_dir, base)
    print(f"[done] in {time.perf_counter() - started:.0f} s; outputs under {base}")


def apply_and_score(run_config, data_dir: Path, base: Path) -> None:
    import numpy as np

    from dacapo.apply import apply
    from dacapo.utils.arrays import open_array
    from dacapo.store.array_store import LocalArrayIdentifier

    output = apply(
        run_config.name,
        input_container=data_dir / "apply.zarr",
        input_dataset="raw",
        output_path=base / "apply_output.zarr",
        validation_dataset="validate",
        criterion="cell__dice",
        num_workers=1,
    )
    labels = open_array(LocalArrayIdentifier(data_dir / "apply.zarr", "labels"))
    result = open_array(output)
    roi = result.roi.intersect(labels.roi)
    predicted = np.asarray(result[roi]).squeeze() > 0
    truth = np.asarray(labels[roi]) > 0
    dice = 2 * (predicted & truth).sum() / max(1, predicted.sum() + truth.sum())
    print(f"[apply] wrote {output.container}/{output.dataset} ({roi.shape / result.voxel_size} voxels); dice vs labels {dice:.3f}")


if __name__ == "__main__":
    main()
