"""A tiny 2D run for data-parallel tests, and ``dacapo train`` under ``torchrun``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from dacapo.experiments import RunConfig
from dacapo.experiments.architectures import CNNectomeUNetConfig
from dacapo.experiments.datasplits import TrainValidateDataSplitConfig
from dacapo.experiments.tasks import DistanceTaskConfig
from dacapo.experiments.trainers import GunpowderTrainerConfig
from dacapo.utils.synthetic import write_cells

from e2e.helpers import dataset_config

REPO = Path(__file__).resolve().parents[2]


def tiny_2d_run_config(data: Path, name: str, iterations: int = 4, validation_interval: int = 2,
                       batch_size: int = 1, batch_norm: bool = True) -> RunConfig:
    train = write_cells(data / "train.zarr", (96, 96), voxel_size=(8, 8), seed=1, num_objects=8)
    val = write_cells(data / "val.zarr", (64, 64), voxel_size=(8, 8), seed=2, num_objects=4)
    return RunConfig(
        name=name,
        datasplit_config=TrainValidateDataSplitConfig(
            name="cells2d",
            train_configs=[dataset_config(train.container, "train")],
            validate_configs=[dataset_config(val.container, "val")],
        ),
        task_config=DistanceTaskConfig(
            name="d2d", channels=["cell"], clip_distance=40.0, tol_distance=40.0, scale_factor=40.0
        ),
        architecture_config=CNNectomeUNetConfig(
            name="unet2d", input_shape=(28, 28), fmaps_out=4, fmaps_in=1, num_fmaps=4,
            fmap_inc_factor=2, downsample_factors=[(2, 2)], eval_shape_increase=(16, 16),
            batch_norm=batch_norm,
        ),
        trainer_config=GunpowderTrainerConfig(
            name="t2d", batch_size=batch_size, learning_rate=1e-3, num_data_fetchers=0,
            warmup_iterations=0, min_masked=0.0,
        ),
        num_iterations=iterations,
        validation_interval=validation_interval,
        repetition=0,
        seed=3,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rank_env(env: dict) -> dict:
    """``env`` for training ranks: one torch thread each, this worktree's ``dacapo``, no
    launcher variables inherited from an enclosing job."""
    env = {k: v for k, v in env.items() if not k.startswith(("SLURM_", "OMPI_", "JSM_"))}
    env.update(OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join(
        [str(REPO)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]))
    return env


def torchrun_train(run_name: str, env: dict, log: Path, ranks: int = 2) -> subprocess.Popen:
    """``torchrun --nproc-per-node RANKS -m dacapo.cli --log-level INFO train -r RUN
    --no-validation`` (started)."""
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", str(ranks),
               "--master-addr", "127.0.0.1", "--master-port", str(free_port()),
               "-m", "dacapo.cli", "--log-level", "INFO", "train", "-r", run_name, "--no-validation"]
    return subprocess.Popen(command, env=rank_env(env), stdout=open(log, "w"),
                            stderr=subprocess.STDOUT, start_new_session=True)
