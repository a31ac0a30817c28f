#!/usr/bin/env python
"""Train DaCapo on the ISBI 2012 EM stack (real data, 30 sections of 512 x 512, 50 x 4 x 4 nm).

1. converts the PNG sections to zarr (``dacapo.utils.isbi``): sections 0-19 for training,
   20-29 for validation, with voxel size and offset metadata;
2. builds the datasplit from a CSV with ``DataSplitGenerator`` (the label ids of the target
   class: "cell" = any instance id, "membrane" = id 0);
3. builds a distance task, a small 2D-ish UNet (kernels 1x3x3, downsampling 1x2x2), a gunpowder
   trainer and a run, stores them all in the config store (``dacapo.yaml`` / ``DACAPO_*``
   options decide where);
4. trains for ``--iterations`` iterations (``--no-train`` stops after storing the configs).

Usage::

    python examples/isbi2012/train_isbi2012.py --iterations 200
    python examples/isbi2012/train_isbi2012.py --target membrane --no-train
    dacapo train -r isbi2012_cell_run   # later, from the stored run config
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

# the shared data folder beside the repository (../shared/data/isbi2012)
DEFAULT_SOURCE = Path(__file__).resolve().parents[3] / "shared" / "data" / "isbi2012"
CLASS_IDS = {"cell": [], "membrane": [0]}  # label ids: [] = any non-zero instance id
VOXEL_SIZE = (50, 4, 4)


def build_configs(args):
    """Convert the data and build (datasplit, task, architecture, trainer, run) configs."""
    from dacapo.experiments import RunConfig
    from dacapo.experiments.architectures import CNNectomeUNetConfig
    from dacapo.experiments.datasplits import DataSplitGenerator
    from dacapo.experiments.tasks import DistanceTaskConfig
    from dacapo.experiments.trainers import GunpowderTrainerConfig
    from dacapo.utils.isbi import write_isbi2012_split

    train, validate, csv_path = write_isbi2012_split(args.source, args.output)
    print(
        f"converted {args.source}: {train.container} {train.shape} at {train.offset} nm, "
        f"{validate.container} {validate.shape} at {validate.offset} nm"
    )
    datasplit_config = DataSplitGenerator.generate_from_csv(
        csv_path,
        input_resolution=VOXEL_SIZE,
        output_resolution=VOXEL_SIZE,
        name=args.name,
        targets=[args.target],
        class_ids={args.target: CLASS_IDS[args.target]},
    ).compute()
    prefix = f"{args.name}_{args.target}"
    task_config = DistanceTaskConfig(
        name=f"{prefix}_distance",
        channels=[args.target],
        clip_distance=40.0,
        tol_distance=8.0,
        scale_factor=50.0,
    )
    architecture_config = CNNectomeUNetConfig(
        name=f"{prefix}_unet2d",
        input_shape=(1, args.input_size, args.input_size),
        eval_shape_increase=(0, 64, 64),
        fmaps_in=1,
        num_fmaps=args.num_fmaps,
        fmaps_out=args.num_fmaps,
        fmap_inc_factor=2,
        downsample_factors=[(1, 2, 2), (1, 2, 2)],
        kernel_size_down=[[(1, 3, 3), (1, 3, 3)]] * 3,
        kernel_size_up=[[(1, 3, 3), (1, 3, 3)]] * 2,
        constant_upsample=True,
    )
    trainer_config = GunpowderTrainerConfig(
        name=f"{prefix}_trainer",
        batch_size=args.batch_size,
        learning_rate=1e-4,
        num_data_fetchers=args.num_data_fetchers,
        augments=[],
        warmup_iterations=min(100, args.iterations),
    )
    run_config = RunConfig(
        name=f"{prefix}_run",
        task_config=task_config,
        architecture_config=architecture_config,
        trainer_config=trainer_config,
        datasplit_config=datasplit_config,
        num_iterations=args.iterations,
        validation_interval=args.validation_interval or args.iterations,
    )
    return datasplit_config, task_config, architecture_config, trainer_config, run_config


def store_configs(configs) -> None:
    from dacapo.store.config_store import DuplicateNameError
    from dacapo.store.create_store import create_config_store

    datasplit_config, task_config, architecture_config, trainer_config, run_config = configs
    store = create_config_store()
    try:
        store.store_datasplit_config(datasplit_config)
        store.store_task_config(task_config)
        store.store_architecture_config(architecture_config)
        store.store_trainer_config(trainer_config)
        store.store_run_config(run_config)
    except DuplicateNameError as exc:
        sys.exit(f"{exc} (choose another --name, or delete the stored config)")
    print(f"stored datasplit {datasplit_config.name!r} and run {run_config.name!r}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="the ISBI 2012 directory (image/, label/)")
    parser.add_argument("--output", type=Path, default=Path("isbi2012_data"), help="where to write the zarr containers")
    parser.add_argument("--name", default="isbi2012", help="prefix of the config names")
    parser.add_argument("--target", choices=sorted(CLASS_IDS), default="cell")
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--validation-interval", type=int, default=None, help="default: --iterations")
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--input-size", type=int, default=196, help="in-plane input size (voxels)")
    parser.add_argument("--num-fmaps", type=int, default=12)
    parser.add_argument("--num-data-fetchers", type=int, default=1)
    parser.add_argument("--no-train", action="store_true", help="only convert and store the configs")
    parser.add_argument("--no-validation", action="store_true", help="train without validating")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s: %(message)s")

    configs = build_configs(args)
    ok, message = configs[0].verify()
    print(message)
    if not ok:
        sys.exit(1)
    store_configs(configs)
    if args.no_train:
        return

    try:
        from dacapo.experiments import Run
        from dacapo.train import train_run
    except ImportError as exc:  # the trainer is an optional part of some installations
        sys.exit(f"cannot train: {exc}")
    run = Run(configs[-1])
    train_run(run, validate=not args.no_validation)


if __name__ == "__main__":
    main()
