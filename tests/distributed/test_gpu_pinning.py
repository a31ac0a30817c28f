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


def test_daisy_worker_processes_each_see_one_gpu(tmp_path, monkeypatch, options):
    """Real daisy workers (the probe task touches no GPU, so this runs on CPU machines too)."""
    from dacapo.blockwise.runner import run_tasks

    from .gpu_probe import GpuProbeTask

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    run_tasks(GpuProbeTask(tmp_path), num_workers=2, progress=False,
              compute_context=LocalTorch(device="cuda", oversubscribe=True))
    seen = [path.read_text().split() for path in sorted(tmp_path.glob("block*"))]
    assert len(seen) == 4
    gpus_of = {}
    for gpu, device, pid in seen:
        assert device == "cuda" and gpu in ("0", "1")
        gpus_of.setdefault(pid, set()).add(gpu)
    assert all(len(gpus) == 1 for gpus in gpus_of.values())  # a process keeps its GPU
    if len(gpus_of) == 2:  # both workers took blocks: one GPU each
        assert set.union(*gpus_of.values()) == {"0", "1"}
