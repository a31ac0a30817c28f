"""From ``raw.zarr`` and ``labels.zarr`` to a stored run: ``new_run_config`` builds a RunConfig
of sensible defaults for a distance, affinities or one-hot task, 2D or 3D (from the raw's voxel
size); ``dacapo new-run`` verifies and stores it. ``docs/run-configs.md`` shows the same configs
written out, to copy and change."""

from __future__ import annotations

from typing import Optional, Sequence

import click

TASKS = ("distance", "affinities", "onehot")

# per number of spatial dimensions: the UNet's training input (voxels) and its downsampling
DEFAULT_INPUT_SHAPE = {2: (252, 252), 3: (88, 88, 88)}


def _zarr(name: str, location: str):
    from dacapo.experiments.datasplits.datasets.arrays import ZarrArrayConfig
    from dacapo.view import _split_location

    container, dataset = _split_location(location)
    return ZarrArrayConfig(name=name, file_name=container, dataset=dataset)


def _raw(name: str, location: str):
    """Raw scaled to [0, 1] from its dtype's range (floats: as they are)."""
    import numpy as np

    from dacapo.experiments.datasplits.datasets.arrays import IntensitiesArrayConfig

    source = _zarr(f"{name}_raw_stored", location)
    dtype = np.dtype(source.array("r").dtype)
    low, high = (np.iinfo(dtype).min, np.iinfo(dtype).max) if dtype.kind in "ui" else (0.0, 1.0)
    return IntensitiesArrayConfig(name=f"{name}_raw", source_array_config=source,
                                  min=float(low), max=float(high))


def _gt(name: str, location: str, task: str, classes: Optional[Sequence[str]]):
    from dacapo.experiments.datasplits.datasets.arrays import BinarizeArrayConfig

    labels = _zarr(f"{name}_labels", location)
    if task == "affinities" or (task == "onehot" and classes):
        return labels  # instance ids / class indices as stored
    # distance, and one-hot background/foreground: one binary channel, 1 inside any label
    return BinarizeArrayConfig(name=f"{name}_gt", source_array_config=labels,
                               groupings=[("foreground", [])], background=0)


def new_run_config(
    name: str,
    raw: str,
    gt: str,
    validate_raw: Optional[str] = None,
    validate_gt: Optional[str] = None,
    task: str = "distance",
    classes: Optional[Sequence[str]] = None,
    input_shape: Optional[Sequence[int]] = None,
    num_fmaps: int = 12,
    iterations: int = 10000,
    validation_interval: int = 1000,
    batch_size: int = 2,
    learning_rate: float = 1e-4,
):
    """A RunConfig named ``name`` training on ``raw``/``gt`` (``<container>.zarr/<dataset>``:
    uint8/uint16/float raw, integer labels with 0 as background) and validating on
    ``validate_raw``/``validate_gt`` if given. Its parts are named ``<name>_task``, ``_unet``,
    ``_trainer`` and ``_data``."""
    from dacapo.config import ConfigError
    from dacapo.experiments import RunConfig
    from dacapo.experiments.architectures import CNNectomeUNetConfig
    from dacapo.experiments.datasplits import TrainValidateDataSplitConfig
    from dacapo.experiments.datasplits.datasets import RawGTDatasetConfig
    from dacapo.experiments.tasks import (
        AffinitiesTaskConfig,
        DistanceTaskConfig,
        OneHotTaskConfig,
    )
    from dacapo.experiments.trainers import GunpowderTrainerConfig
    from dacapo.experiments.trainers.gp_augments import IntensityAugmentConfig, SimpleAugmentConfig

    if task not in TASKS:
        raise ConfigError(f"new run {name!r}: task={task!r} is not one of {', '.join(TASKS)}")
    if (validate_raw is None) != (validate_gt is None):
        raise ConfigError(f"new run {name!r}: give both validate_raw and validate_gt, or neither")

    def dataset(role: str, raw_location: str, gt_location: str):
        return RawGTDatasetConfig(
            name=f"{name}_{role}", weight=1,
            raw_config=_raw(f"{name}_{role}", raw_location),
            gt_config=_gt(f"{name}_{role}", gt_location, task, classes),
        )

    train = dataset("train", raw, gt)
    voxel_size = tuple(train.raw_config.array("r").voxel_size)
    dims = len(voxel_size)
    if dims not in DEFAULT_INPUT_SHAPE:
        raise ConfigError(f"new run {name!r}: raw {raw!r} has voxel size {voxel_size}; "
                          "only 2D and 3D raw is supported")
    validate = [] if validate_raw is None else [dataset("validate", validate_raw, validate_gt)]
    datasplit = TrainValidateDataSplitConfig(name=f"{name}_data", train_configs=[train],
                                             validate_configs=validate)
    smallest = min(voxel_size)
    if task == "distance":
        task_config = DistanceTaskConfig(name=f"{name}_task", channels=["foreground"],
                                         clip_distance=10.0 * smallest,
                                         tol_distance=10.0 * smallest,
                                         scale_factor=20.0 * smallest)
    elif task == "affinities":
        unit = [tuple(int(i == axis) for i in range(dims)) for axis in range(dims)]
        longer = [tuple(3 * v for v in offset) for offset in unit]
        task_config = AffinitiesTaskConfig(name=f"{name}_task", neighborhood=unit + longer)
    else:
        task_config = OneHotTaskConfig(name=f"{name}_task",
                                       classes=list(classes or ["background", "foreground"]))
    architecture = CNNectomeUNetConfig(
        name=f"{name}_unet",
        input_shape=tuple(input_shape or DEFAULT_INPUT_SHAPE[dims]),
        eval_shape_increase=(32,) * dims,
        fmaps_in=1, num_fmaps=num_fmaps, fmaps_out=num_fmaps, fmap_inc_factor=2,
        downsample_factors=[(2,) * dims, (2,) * dims],
    )
    trainer = GunpowderTrainerConfig(
        name=f"{name}_trainer", batch_size=batch_size, learning_rate=learning_rate,
        augments=[SimpleAugmentConfig(),
                  IntensityAugmentConfig(scale=(0.9, 1.1), shift=(-0.1, 0.1), clip=True)],
        warmup_iterations=min(1000, iterations // 10),  # never longer than the run
    )
    return RunConfig(name=name, task_config=task_config, architecture_config=architecture,
                     trainer_config=trainer, datasplit_config=datasplit,
                     num_iterations=iterations, validation_interval=validation_interval)


def _shape(value: Optional[str]):
    if value is None:
        return None
    try:
        return tuple(int(v) for v in value.replace("x", ",").split(","))
    except ValueError:
        raise click.BadParameter(f"{value!r}: expected voxels like 88,88,88") from None


@click.command("new-run")
@click.argument("name")
@click.option("--raw", required=True, help="Training raw, as <container>.zarr/<dataset>.")
@click.option("--gt", required=True,
              help="Training labels, as <container>.zarr/<dataset> (integers, 0 = background).")
@click.option("--validate-raw", default=None, help="Validation raw (<container>.zarr/<dataset>).")
@click.option("--validate-gt", default=None, help="Validation labels (<container>.zarr/<dataset>).")
@click.option("--task", type=click.Choice(TASKS), default="distance", show_default=True,
              help="distance: signed distance to the labelled objects; affinities: instance "
                   "boundaries (mutex watershed); onehot: one class per voxel.")
@click.option("--classes", default=None,
              help="onehot: class names in the order of the label values, e.g. "
                   "background,mito,er (default: background,foreground from labels > 0).")
@click.option("--input-shape", default=None,
              help="UNet training input in voxels, e.g. 88,88,88 (default: 88^3 in 3D, 252^2 in 2D).")
@click.option("--num-fmaps", type=click.IntRange(min=1), default=12, show_default=True,
              help="Feature maps of the UNet's top level.")
@click.option("--iterations", type=click.IntRange(min=1), default=10000, show_default=True)
@click.option("--validation-interval", type=click.IntRange(min=1), default=1000, show_default=True)
@click.option("--batch-size", type=click.IntRange(min=1), default=2, show_default=True)
@click.option("--learning-rate", type=float, default=1e-4, show_default=True)
@click.option("--print-yaml", is_flag=True, help="Also print the stored config as YAML.")
def new_run_command(name, raw, gt, validate_raw, validate_gt, task, classes, input_shape,
                    num_fmaps, iterations, validation_interval, batch_size, learning_rate,
                    print_yaml) -> None:
    """Build a run from raw and label arrays, check it (RunConfig.verify) and store it; then
    train it with `dacapo train -r NAME`."""
    from dacapo.config import ConfigError
    from dacapo.store.create_store import create_config_store

    config = new_run_config(
        name, raw, gt, validate_raw, validate_gt, task=task,
        classes=[c.strip() for c in classes.split(",")] if classes else None,
        input_shape=_shape(input_shape), num_fmaps=num_fmaps, iterations=iterations,
        validation_interval=validation_interval, batch_size=batch_size,
        learning_rate=learning_rate,
    )
    ok, message = config.verify()
    if not ok:
        raise ConfigError(message + " (nothing stored)")
    store = create_config_store()
    store.store_run_config(config)
    if print_yaml:
        from dacapo.store.converter import unstructure
        from dacapo.store.file_config_store import dump_yaml

        click.echo(dump_yaml(unstructure(config)))
    click.echo(f"stored run {name} in {store}: {message}")
    if not validate_raw:
        click.echo("no validation data: training stores checkpoints but records no scores")
    click.echo(f"next: dacapo train -r {name}")
