"""Small end-to-end configs on generated data: a 3D UNet learning distances to cells."""

from __future__ import annotations

from pathlib import Path

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
    IntensityAugmentConfig,
    IntensityScaleShiftAugmentConfig,
    SimpleAugmentConfig,
)
from dacapo.utils.synthetic import write_cells


def dataset_config(container: Path, name: str) -> RawGTDatasetConfig:
    raw = IntensitiesArrayConfig(
        name=f"{name}_raw",
        source_array_config=ZarrArrayConfig(name=f"{name}_raw_uint8", file_name=container, dataset="raw"),
        min=0.0,
        max=255.0,
    )
    gt = BinarizeArrayConfig(
        name=f"{name}_gt",
        source_array_config=ZarrArrayConfig(name=f"{name}_labels", file_name=container, dataset="labels"),
        groupings=[("cell", [])],
        background=0,
    )
    return RawGTDatasetConfig(name=name, weight=1, raw_config=raw, gt_config=gt)


def small_run_config(
    tmp_path: Path,
    name: str = "small_run",
    iterations: int = 6,
    validation_interval: int = 3,
    num_data_fetchers: int = 0,
    learning_rate: float = 1e-3,
    shape=(64, 64, 64),
    seed: int = 0,
) -> RunConfig:
    train = write_cells(tmp_path / "train.zarr", shape, voxel_size=(8, 8, 8), seed=1, num_objects=12)
    val = write_cells(tmp_path / "val.zarr", (48, 48, 48), voxel_size=(8, 8, 8), offset=(0, 0, 0), seed=2, num_objects=6)
    datasplit = TrainValidateDataSplitConfig(
        name="cells",
        train_configs=[dataset_config(train.container, "train")],
        validate_configs=[dataset_config(val.container, "val")],
    )
    task = DistanceTaskConfig(
        name="cell_distances", channels=["cell"], clip_distance=40.0, tol_distance=40.0,
        scale_factor=40.0,
    )
    architecture = CNNectomeUNetConfig(
        name="tiny_unet",
        input_shape=(36, 36, 36),
        fmaps_out=8,
        fmaps_in=1,
        num_fmaps=4,
        fmap_inc_factor=2,
        downsample_factors=[(2, 2, 2)],
        eval_shape_increase=(16, 16, 16),
    )
    trainer = GunpowderTrainerConfig(
        name="fast_trainer",
        batch_size=2,
        learning_rate=learning_rate,
        num_data_fetchers=num_data_fetchers,
        augments=[
            SimpleAugmentConfig(),
            IntensityAugmentConfig(scale=(0.9, 1.1), shift=(-0.05, 0.05), clip=True),
            IntensityScaleShiftAugmentConfig(scale=2.0, shift=-1.0),
        ],
        snapshot_interval=3,
        min_masked=0.0,
        warmup_iterations=0,
    )
    return RunConfig(
        name=name,
        datasplit_config=datasplit,
        task_config=task,
        architecture_config=architecture,
        trainer_config=trainer,
        num_iterations=iterations,
        validation_interval=validation_interval,
        repetition=0,
        seed=seed,
    )
