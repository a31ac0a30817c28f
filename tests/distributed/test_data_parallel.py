"""Data-parallel training on CPU with ``gloo``: 2 ranks train like one process with their
joint batch, ``dacapo train`` under ``torchrun`` resumes after a rank is killed, and the
launchers' environments name ranks and rendezvous."""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import pytest
import torch

from dacapo import distributed
from dacapo.experiments import run_state
from dacapo.experiments.run import Run
from dacapo.store.create_store import create_config_store
from dacapo.store.file_stats_store import FileStatsStore
from dacapo.store.local_weights_store import LocalWeightsStore

from .helpers import free_port, tiny_2d_run_config, torchrun_train
from .ranks import ddp_steps, steps


def _batches(run, total: int, count: int, seed: int = 5) -> list:
    rng = np.random.default_rng(seed)
    shape_in = (total, 1, *run.model.input_shape)
    shape_out = (total, run.model.num_out_channels, *run.model.output_shape)
    return [
        (rng.random(shape_in, dtype=np.float32), rng.uniform(-1, 1, shape_out).astype(np.float32),
         rng.random(shape_out, dtype=np.float32))
        for _ in range(count)
    ]


@pytest.mark.slow
def test_two_ranks_train_like_one_process_with_their_joint_batch(tmp_path):
    # batch norm: per rank on CPU (torch's SyncBatchNorm needs GPUs), so none here
    config = tiny_2d_run_config(tmp_path / "data", "ddp", batch_norm=False)
    torch.manual_seed(0)
    reference = Run(config)
    batches = _batches(reference, total=4, count=3)
    torch.set_num_threads(1)
    reference_losses = steps(reference, reference.model, batches, 0, 1)

    out = tmp_path / "rank0.pt"
    torch.multiprocessing.spawn(ddp_steps, args=(2, free_port(), config, batches, str(out)),
                                nprocs=2, join=True)
    ranked = torch.load(out, weights_only=True)
    np.testing.assert_allclose(ranked["losses"], reference_losses, rtol=1e-5)
    state = reference.model.state_dict()
    assert ranked["model"].keys() == state.keys()
    moved = 0
    for key, value in state.items():
        torch.testing.assert_close(ranked["model"][key], value, rtol=1e-5, atol=1e-6)
        moved += int(not torch.equal(value, Run(config).model.state_dict()[key]))
    assert moved > 0  # the steps changed the weights


@pytest.mark.slow
def test_two_rank_train_resumes_after_either_rank_is_killed(options, tmp_path):
    from dacapo.options import Options

    runs = options.runs_base_dir
    create_config_store().store_run_config(
        tiny_2d_run_config(tmp_path / "data", "ranked", iterations=20, validation_interval=2)
    )
    env = {**os.environ, **Options.export_environment(options)}
    weights = LocalWeightsStore(runs)

    # SIGKILL rank 1, then (in the resumed job) rank 0, the writer, each once a checkpoint more
    # is stored: torchrun stops the other rank and fails; the next start resumes
    killed_at = 0
    for attempt, rank in enumerate(("1", "0")):
        log = tmp_path / f"kill{attempt}.log"
        job = torchrun_train("ranked", env, log)
        deadline = time.monotonic() + 240
        while (weights.latest_iteration("ranked") or 0) <= killed_at and job.poll() is None:
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.1)
        victim = _child_with_env(job.pid, "RANK", rank)
        assert victim is not None, f"no rank {rank} process under torchrun"
        os.kill(victim, signal.SIGKILL)
        assert job.wait(120) != 0, log.read_text()[-3000:]
        if attempt:  # this job started where the last one was killed
            assert f"resuming run ranked from its checkpoint at iteration {killed_at}" in log.read_text()
        killed_at = weights.latest_iteration("ranked")
        assert killed_at < 20

    final = torchrun_train("ranked", env, tmp_path / "final.log")
    log = (tmp_path / "final.log").read_text
    assert final.wait(300) == 0, log()[-3000:]
    assert log().count(f"resuming run ranked from its checkpoint at iteration {killed_at}") == 2, log()[-3000:]
    assert weights.latest_iteration("ranked") == 20
    stats = FileStatsStore(runs / "stats").retrieve_training_stats("ranked").iteration_stats
    assert [s.iteration for s in stats] == list(range(20))  # rank 0 alone, once per iteration
    assert all(np.isfinite(s.loss) for s in stats)


def _child_with_env(parent: int, key: str, value: str):
    """A descendant process of ``parent`` whose environment has ``key=value``."""
    for _ in range(100):
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                if ppid != parent:
                    continue
                with open(f"/proc/{pid}/environ", "rb") as f:
                    if f"{key}={value}".encode() in f.read().split(b"\0"):
                        return int(pid)
            except (OSError, ValueError, IndexError):
                continue
        time.sleep(0.1)
    return None


def test_launcher_environments_name_the_rank():
    assert distributed.rank_context({}) == distributed.RankContext()
    torchrun = distributed.rank_context({"RANK": "1", "WORLD_SIZE": "4", "LOCAL_RANK": "1"})
    assert (torchrun.rank, torchrun.world_size, torchrun.launcher) == (1, 4, "torchrun")
    assert not torchrun.is_main and torchrun.distributed
    slurm = distributed.rank_context(
        {"SLURM_PROCID": "3", "SLURM_STEP_NUM_TASKS": "4", "SLURM_NTASKS": "4", "SLURM_LOCALID": "1"}
    )
    assert (slurm.rank, slurm.local_rank, slurm.launcher) == (3, 1, "slurm")
    # the batch script of a --ntasks=4 job (no srun step): one process, not rank 0 of 4
    assert not distributed.rank_context({"SLURM_PROCID": "0", "SLURM_NTASKS": "4"}).distributed
    jsrun = distributed.rank_context({"JSM_NAMESPACE_RANK": "0", "JSM_NAMESPACE_SIZE": "2"})
    assert jsrun.is_main and jsrun.world_size == 2
    one_task = distributed.rank_context({"SLURM_PROCID": "0", "SLURM_STEP_NUM_TASKS": "1"})
    assert not one_task.distributed  # a plain one-task SLURM job trains as before
    with pytest.raises(distributed.DistributedError, match="RANK=5 is not in"):
        distributed.rank_context({"RANK": "5", "WORLD_SIZE": "2"})
    with pytest.raises(distributed.DistributedError, match="not integers"):
        distributed.rank_context({"RANK": "x", "WORLD_SIZE": "2"})


def test_rendezvous_is_the_same_for_every_rank_of_a_job():
    slurm = distributed.rank_context({"SLURM_PROCID": "1", "SLURM_STEP_NUM_TASKS": "2"})
    env = {"SLURM_JOB_ID": "4242", "SLURM_STEP_NUM_NODES": "1"}
    assert distributed.rendezvous(slurm, env) == ("127.0.0.1", str(29500 + 4242))
    assert distributed.rendezvous(slurm, {**env, "MASTER_ADDR": "h", "MASTER_PORT": "1"}) == ("h", "1")
    lsf = distributed.RankContext(0, 8, 0, "jsrun")
    hosts = {"LSB_JOBID": "7", "LSB_MCPU_HOSTS": "node3 4 node4 4"}
    assert distributed.rendezvous(lsf, hosts) == ("node3", str(29507))
    assert distributed.rank_seed(11, 0) == 11 and distributed.rank_seed(11, 1) != 11


def test_grad_scaler_state_is_checkpointed_and_restored(options, tmp_path):
    run = Run(tiny_2d_run_config(tmp_path / "data", "scaled"))
    scaler = torch.amp.GradScaler("cpu", init_scale=1024.0, growth_interval=3)
    scaler._lazy_init_scale_growth_tracker(torch.device("cpu"))
    scaler.update(512.0)
    store = LocalWeightsStore(options.runs_base_dir)
    store.store_weights("scaled", 2, run_state.capture(run, 2, scaler=scaler))

    fresh = torch.amp.GradScaler("cpu", init_scale=1.0, growth_interval=3)
    assert run_state.restore(run, store.retrieve_weights("scaled", 2), scaler=fresh) == 2
    assert fresh.get_scale() == 512.0
    assert fresh.state_dict() == scaler.state_dict()
    # a checkpoint of a run without a scaler restores into one that has it: untouched
    store.store_weights("scaled", 4, run_state.capture(run, 4))
    untouched = torch.amp.GradScaler("cpu", init_scale=8.0)
    run_state.restore(run, store.retrieve_weights("scaled", 4), scaler=untouched)
    assert untouched.get_scale() == 8.0
