"""Shared by the benchmarks: temporary stores, a tutorial-kind run on generated data, JSON lines,
machine load and process memory (read from /proc: no psutil)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.e2e.helpers


def use_temporary_stores(directory: Path) -> None:
    """Point DaCapo's stores at ``directory`` (files store, no options file)."""
    os.environ.update(
        DACAPO_RUNS_BASE_DIR=str(Path(directory) / "runs"),
        DACAPO_TYPE="files",
        DACAPO_OPTIONS_FILE=str(Path(directory) / "none.yaml"),
    )
    os.environ.pop("DACAPO_COMPUTE_CONTEXT", None)


def emit(line: dict) -> None:
    line.setdefault("load_average", round(os.getloadavg()[0], 2))
    print(json.dumps(line), flush=True)


def cores() -> int:
    return len(os.sched_getaffinity(0))


def gpu_name(device: str) -> str:
    """``device`` as a line of a benchmark names it: the GPU's model on CUDA."""
    import torch

    if torch.device(device).type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(torch.device(device))})"
    return str(device)


def rss_bytes(pid: int | str = "self") -> int:
    """Resident set size of a process (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0


def children(pid: int | None = None) -> list[int]:
    pid = os.getpid() if pid is None else pid
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except FileNotFoundError:
        return []


def peak_rss_bytes() -> int:
    """Peak RSS of this process (VmHWM)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def tutorial_trainer_config(num_data_fetchers: int, elastic: bool = True):
    """The tutorial's trainer: batch size 2, elastic + intensity + gamma + scale/shift augments,
    ``min_masked=0.05``."""
    from dacapo.experiments.trainers import GunpowderTrainerConfig
    from dacapo.experiments.trainers.gp_augments import (
        ElasticAugmentConfig,
        GammaAugmentConfig,
        IntensityAugmentConfig,
        IntensityScaleShiftAugmentConfig,
    )

    augments = [
        IntensityAugmentConfig(scale=(0.5, 1.5), shift=(-0.2, 0.2), clip=True),
        GammaAugmentConfig(gamma_range=(0.5, 1.5)),
        IntensityScaleShiftAugmentConfig(scale=2.0, shift=-1.0),
    ]
    if elastic:
        augments.insert(0, ElasticAugmentConfig(
            control_point_spacing=[100, 100, 100],
            control_point_displacement_sigma=[10.0, 10.0, 10.0],
            rotation_interval=(0.0, 1.5707963267948966),
            subsample=8,
            uniform_3d_rotation=True,
        ))
    return GunpowderTrainerConfig(
        name="bench_tutorial_trainer",
        batch_size=2,
        learning_rate=1e-05,
        num_data_fetchers=num_data_fetchers,
        augments=augments,
        snapshot_interval=10**6,
        min_masked=0.05,
        clip_raw=False,
    )


def tutorial_kind_run_config(
    directory: Path,
    name: str,
    *,
    input_size: int,
    num_fmaps: int,
    fmap_inc_factor: int,
    num_data_fetchers: int,
    volume: int,
    iterations: int,
    elastic: bool = True,
):
    """A run like the tutorial's (distance task with ``scale_factor=160, mask_distances=True``;
    the tutorial's trainer: batch size 2, elastic + intensity + gamma + scale/shift augments,
    ``min_masked=0.05``; a valid CNNectomeUNet with 3 downsamplings and constant upsampling) on a
    generated ``volume``³ train volume, scaled down: downsampling factors 2, 2, 2 instead of 2, 3, 3
    (those need ≥ 198³ inputs), fewer feature maps, no final 2× upsampling (that needs 4 nm gt)."""
    from dacapo.experiments import RunConfig
    from dacapo.experiments.architectures import CNNectomeUNetConfig
    from dacapo.experiments.datasplits import TrainValidateDataSplitConfig
    from dacapo.experiments.tasks import DistanceTaskConfig
    from dacapo.utils.synthetic import write_cells
    from tests.e2e.helpers import dataset_config

    directory = Path(directory)
    train = directory / f"train{volume}.zarr"
    if not train.exists():
        write_cells(train, (volume,) * 3, voxel_size=(8, 8, 8), seed=1,
                    num_objects=max(12, volume**3 // 40000))
    val = directory / "val48.zarr"
    if not val.exists():
        write_cells(val, (48,) * 3, voxel_size=(8, 8, 8), seed=2, num_objects=6)
    datasplit = TrainValidateDataSplitConfig(
        name="bench_cells",
        train_configs=[dataset_config(train, "train")],
        validate_configs=[dataset_config(val, "val")],
    )
    task = DistanceTaskConfig(
        name="bench_distances", channels=["cell"], clip_distance=80.0, tol_distance=80.0,
        scale_factor=160.0, mask_distances=True,
    )
    architecture = CNNectomeUNetConfig(
        name=f"bench_unet_{input_size}_{num_fmaps}_{fmap_inc_factor}",
        input_shape=(input_size,) * 3,
        fmaps_out=max(8, num_fmaps),
        fmaps_in=1,
        num_fmaps=num_fmaps,
        fmap_inc_factor=fmap_inc_factor,
        downsample_factors=[(2, 2, 2)] * 3,
        eval_shape_increase=(24, 24, 24),
        constant_upsample=True,
        padding="valid",
    )
    trainer = tutorial_trainer_config(num_data_fetchers, elastic)
    return RunConfig(
        name=name,
        datasplit_config=datasplit,
        task_config=task,
        architecture_config=architecture,
        trainer_config=trainer,
        num_iterations=iterations,
        validation_interval=10**6,
        repetition=0,
        seed=0,
    )
