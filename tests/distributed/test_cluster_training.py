"""Data-parallel training launched through the compute contexts: the command lines of SLURM,
LSF and torchrun, and 2 ranks as one job of a real single-node SLURM cluster."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from dacapo.compute_context import Bsub, LocalTorch, Slurm
from dacapo.store.create_store import create_config_store
from dacapo.store.file_stats_store import FileStatsStore
from dacapo.store.local_weights_store import LocalWeightsStore

from blockwise.conftest import slurm_cluster  # noqa: F401  (fixture)
from .helpers import rank_env, tiny_2d_run_config

TRAIN = ["python", "-m", "dacapo.cli", "train", "-r", "r"]


def test_slurm_starts_nodes_times_ranks_tasks_in_one_job():
    context = Slurm(partition="gpu", nodes=2, gpus_per_node=4, num_cpus=8, time="1:00:00")
    command = context.train_command(TRAIN, job_name="j", log_prefix="/logs/train")
    assert command[:3] == ["sbatch", "--wait", "--parsable"]
    for arg in ("--nodes=2", "--ntasks-per-node=4", "--gpus-per-node=4", "--cpus-per-task=8",
                "--partition=gpu", "--time=1:00:00", "--output=/logs/train.%j.out"):
        assert arg in command
    assert not any(arg.startswith("--ntasks=") for arg in command)
    assert command[-2:] == ["--wrap", "srun --kill-on-bad-exit=1 python -m dacapo.cli train -r r"]
    inside = Slurm(launcher="srun", ranks_per_node=2).train_command(TRAIN)
    assert inside[0] == "srun" and "--ntasks-per-node=2" in inside and "--kill-on-bad-exit=1" in inside
    assert inside[-len(TRAIN):] == TRAIN
    # blockwise workers keep their one-task jobs
    assert "--ntasks=1" in context.wrap_command(["w"]) and "--gres=gpu:0" not in context.wrap_command(["w"])


def test_lsf_job_has_a_slot_per_rank_and_a_rank_launcher():
    context = Bsub(queue="gpu_a100", nodes=2, gpus_per_node=4, rank_launcher="jsrun -n {ranks} -a 1 -g 1")
    command = context.train_command(TRAIN, job_name="j")
    assert command[:2] == ["bsub", "-K"]
    at = command.index("-n")
    assert command[at:at + 4] == ["-n", "8", "-R", "span[ptile=4]"]
    assert command[command.index("-gpu") + 1] == "num=4"
    assert command[-len(TRAIN) - 7:-len(TRAIN)] == ["jsrun", "-n", "8", "-a", "1", "-g", "1"]
    assert Bsub().train_command(TRAIN)[-len(TRAIN) - 1] == "mpirun"
    with pytest.raises(ValueError, match="nodes must be >= 1, got 0"):
        Bsub(nodes=0)


def test_local_torch_starts_torchrun():
    command = LocalTorch(device="cpu").train_command([sys.executable, "-m", "dacapo.cli", "train"])
    assert command[1:5] == ["-m", "torch.distributed.run", "--standalone", "--nproc-per-node=1"]
    assert command[5:] == ["-m", "dacapo.cli", "train"]


@pytest.mark.slow
def test_two_ranks_train_as_one_slurm_job(slurm_cluster, options, tmp_path):  # noqa: F811
    from dacapo.options import Options

    runs = options.runs_base_dir
    create_config_store().store_run_config(
        tiny_2d_run_config(tmp_path / "data", "on_slurm", iterations=4, validation_interval=2)
    )
    context = {"type": "Slurm", "config": {"partition": "debug", "ranks_per_node": 2,
                                           "num_cpus": 1, "time": "10:00"}}
    env = rank_env({**os.environ, **Options.export_environment(options),
                    "DACAPO_COMPUTE_CONTEXT": json.dumps(context)})
    result = subprocess.run(
        [sys.executable, "-m", "dacapo.cli", "--log-level", "INFO", "train", "-r", "on_slurm",
         "--no-validation", "--launch"],
        env=env, capture_output=True, text=True, timeout=300,
    )
    logs = sorted((runs / "on_slurm" / "train-logs").glob("train.*.*"))
    text = "".join(path.read_text() for path in logs)
    assert result.returncode == 0, result.stderr[-2000:] + text[-3000:]
    assert "rank 0 of 2 (slurm)" in text and "rank 1 of 2 (slurm)" in text, text[-3000:]
    assert LocalWeightsStore(runs).latest_iteration("on_slurm") == 4
    stats = FileStatsStore(runs / "stats").retrieve_training_stats("on_slurm").iteration_stats
    assert [s.iteration for s in stats] == [0, 1, 2, 3]
