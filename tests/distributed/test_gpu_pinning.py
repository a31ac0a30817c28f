"""Blockwise workers on several GPUs: one GPU per worker process (``CUDA_VISIBLE_DEVICES``)."""

from __future__ import annotations

from dacapo.compute_context import Bsub, LocalTorch, Slurm


def test_local_cuda_workers_are_pinned_one_per_gpu_round_robin():
    context = LocalTorch(device="cuda")
    env = {"CUDA_VISIBLE_DEVICES": "2,5,7", "OTHER": "x"}
    pinned = [context.worker_environment(worker, env)["CUDA_VISIBLE_DEVICES"] for worker in range(4)]
    assert pinned == ["2", "5", "7", "2"]
    assert context.worker_environment(1, env)["OTHER"] == "x" and env["CUDA_VISIBLE_DEVICES"] == "2,5,7"
    assert str(context.worker_device(1)) == "cuda"  # the one GPU it sees
    # one GPU, an explicit one, or the CPU: nothing to pin
    assert context.worker_environment(3, {"CUDA_VISIBLE_DEVICES": "4"})["CUDA_VISIBLE_DEVICES"] == "4"
    assert "CUDA_VISIBLE_DEVICES" not in LocalTorch(device="cuda:1").worker_environment(1, {})
    assert LocalTorch(device="cpu").worker_environment(1, env) == env


def test_cluster_gpu_jobs_see_the_gpus_their_scheduler_gives_them():
    env = {"CUDA_VISIBLE_DEVICES": "3", "PATH": "/bin"}
    for context in (Slurm(num_gpus=1), Bsub(num_gpus=1)):
        assert context.worker_environment(0, env) == {"PATH": "/bin"}
    assert Slurm(num_gpus=0).worker_environment(0, env) == env
