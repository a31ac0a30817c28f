"""Data-parallel training with ``torch.distributed``: who this process is among the ranks of one
training, and the process group that joins them.

A training process learns its rank from the launcher's environment:

- ``torchrun`` (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``, ``MASTER_PORT``),
- SLURM tasks started by ``srun`` (``SLURM_PROCID``, ``SLURM_STEP_NUM_TASKS``, ``SLURM_LOCALID``),
- MPI-style launchers on LSF (``jsrun``: ``JSM_NAMESPACE_RANK/SIZE/LOCAL_RANK``; ``mpirun``:
  ``OMPI_COMM_WORLD_RANK/SIZE/LOCAL_RANK``).

Without any of them (or with one rank) training is single-process, as before. Several ranks join
one process group: ``nccl`` on CUDA (one GPU per rank, ``cuda:LOCAL_RANK``), ``gloo`` on CPU.
The rendezvous address is ``MASTER_ADDR``/``MASTER_PORT`` when set (torchrun sets them); under
SLURM and LSF it is the job's first host (``127.0.0.1`` for a one-node job) and a port derived from
the job id, so every rank of the job computes the same one.
"""

from __future__ import annotations

import datetime
import os
import subprocess
import time
from typing import Mapping, Optional

import attrs

#: (rank, world size, local rank) variables of each launcher, in order of precedence
_LAUNCHER_VARIABLES = (
    ("torchrun", "RANK", "WORLD_SIZE", "LOCAL_RANK"),
    # the step's task count: a batch script of a --ntasks=4 job also has SLURM_NTASKS=4 and
    # SLURM_PROCID=0, and must not wait for 3 ranks that nobody starts
    ("slurm", "SLURM_PROCID", "SLURM_STEP_NUM_TASKS", "SLURM_LOCALID"),
    ("jsrun", "JSM_NAMESPACE_RANK", "JSM_NAMESPACE_SIZE", "JSM_NAMESPACE_LOCAL_RANK"),
    ("mpi", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK"),
)

#: how long a rank waits for the others (rank 0 validates while they wait at the next step)
TIMEOUT = datetime.timedelta(hours=2)


class DistributedError(RuntimeError):
    pass


@attrs.frozen
class RankContext:
    """This process among the ``world_size`` ranks of one training (``rank 0 of 1`` alone)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    launcher: Optional[str] = None

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0 alone writes checkpoints, stats, TensorBoard events, snapshots and validates."""
        return self.rank == 0


def rank_context(env: Optional[Mapping[str, str]] = None) -> RankContext:
    """The rank of this process from its launcher's environment (``env``: ``os.environ``)."""
    env = os.environ if env is None else env
    for launcher, rank, size, local in _LAUNCHER_VARIABLES:
        if rank in env and size in env:
            try:
                context = RankContext(
                    int(env[rank]), int(env[size]), int(env.get(local, env[rank])), launcher
                )
            except ValueError:
                raise DistributedError(
                    f"{launcher}: {rank}={env[rank]!r}, {size}={env[size]!r} are not integers"
                ) from None
            if not 0 <= context.rank < context.world_size:
                raise DistributedError(
                    f"{launcher}: {rank}={context.rank} is not in [0, {size}={context.world_size})"
                )
            return context
    return RankContext()


def rank_seed(seed: int, rank: int) -> int:
    """The data seed of ``rank``: the run's own for rank 0 (a 1-rank run samples as before),
    distinct ones for the others."""
    return int(seed) if rank == 0 else (int(seed) + 7919 * rank) % (2**31 - 1)


def rank_device(context: RankContext, device: Optional[str] = None):
    """The torch device of a rank: ``cuda:LOCAL_RANK`` on GPUs (``cuda:0`` where the launcher
    already shows each rank one GPU), else ``device`` or the default device."""
    import torch

    from dacapo.utils.torch_utils import default_device

    device = default_device(device)
    if device.type == "cuda" and device.index is None and context.distributed:
        count = torch.cuda.device_count()
        if count == 0:
            raise DistributedError("CUDA training ranks but no GPU is visible")
        device = torch.device("cuda", context.local_rank % count)
    if device.type == "cuda" and device.index is not None:
        torch.cuda.set_device(device)  # a bare "cuda" (one process, current GPU) has no index
    return device


def rendezvous(context: RankContext, env: Optional[Mapping[str, str]] = None) -> tuple[str, str]:
    """``(MASTER_ADDR, MASTER_PORT)`` of the ranks' process group (see the module docstring)."""
    env = os.environ if env is None else env
    addr, port = env.get("MASTER_ADDR"), env.get("MASTER_PORT")
    job_id = env.get("SLURM_JOB_ID") or env.get("LSB_JOBID") or "0"
    if addr is None:
        addr = _first_host(context.launcher, env)
    if port is None:
        port = str(29500 + int("".join(c for c in job_id if c.isdigit()) or 0) % 20000)
    return addr, port


def _first_host(launcher: Optional[str], env: Mapping[str, str]) -> str:
    if launcher == "slurm":
        if env.get("SLURM_STEP_NUM_NODES", env.get("SLURM_JOB_NUM_NODES", "1")) == "1":
            return "127.0.0.1"
        nodes = env.get("SLURM_STEP_NODELIST") or env.get("SLURM_JOB_NODELIST", "")
        result = subprocess.run(["scontrol", "show", "hostnames", nodes], capture_output=True,
                                text=True, check=False)
        hosts = result.stdout.split()
        if not hosts:
            raise DistributedError(f"scontrol show hostnames {nodes!r} named no host; set MASTER_ADDR")
        return hosts[0]
    hosts = (env.get("LSB_MCPU_HOSTS") or "").split()[::2] or (env.get("LSB_HOSTS") or "").split()
    if len(set(hosts)) > 1:
        return hosts[0]
    return "127.0.0.1"


def init_process_group(context: RankContext, device) -> None:
    """Join the process group of the ranks (nothing for one rank): ``nccl`` on CUDA, ``gloo``
    elsewhere."""
    import torch
    import torch.distributed as dist

    if not context.distributed or dist.is_initialized():
        return
    addr, port = rendezvous(context)
    backend = "nccl" if torch.device(device).type == "cuda" else "gloo"
    dist.init_process_group(
        backend,
        init_method=f"tcp://{addr}:{port}",
        rank=context.rank,
        world_size=context.world_size,
        timeout=TIMEOUT,
    )


def leave(context: RankContext, finished: bool = True) -> None:
    """Leave the process group. ``finished`` (every rank got here): the ranks first meet at a
    barrier, tear the group down together, and rank 0, which hosts the rendezvous store, exits
    last. A rank whose gloo peer closed its connections first aborted at exit ("terminate
    called without an active exception", seen in CI, from both ``train_run`` and a test)."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        return
    store = None
    if finished and context.distributed:
        try:
            from torch.distributed.distributed_c10d import _get_default_store

            store = _get_default_store()
        except Exception:  # a private helper: without it, the barrier alone
            store = None
        dist.barrier()
    dist.destroy_process_group()
    if store is None:
        return
    store.add(_LEFT_KEY, 1)
    if context.rank == 0:  # keep the store up until every rank has torn its group down
        deadline = time.monotonic() + 60
        while store.add(_LEFT_KEY, 0) < context.world_size and time.monotonic() < deadline:
            time.sleep(0.01)


_LEFT_KEY = "dacapo_ranks_left"


def wrap_model(model, context: RankContext, device):
    """``model`` wrapped in ``DistributedDataParallel`` (gradients averaged over the ranks in
    ``backward``) for several ranks; ``model`` itself for one. On CUDA its batch norms become
    ``SyncBatchNorm`` (statistics over the joint batch of all ranks; torch has no CPU version,
    so on CPU each rank normalises its own batch). The state dict keeps its keys: checkpoints
    are interchangeable between 1 and N ranks."""
    if not context.distributed:
        return model
    import torch
    from torch.nn.parallel import DistributedDataParallel

    device = torch.device(device)
    if device.type == "cuda":
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
        return DistributedDataParallel(model, device_ids=[device.index])
    return DistributedDataParallel(model)


def mean_over_ranks(value: float, context: RankContext, device) -> float:
    """The mean of ``value`` over the ranks (``value`` for one rank). Every rank gets the same
    number, so decisions taken on it (a non-finite loss stops training) are the same on all."""
    if not context.distributed:
        return value
    import torch
    import torch.distributed as dist

    tensor = torch.tensor([value], dtype=torch.float64, device=device)
    dist.all_reduce(tensor)
    return float(tensor.item()) / context.world_size


def broadcast_from_main(value, context: RankContext):
    """Rank 0's ``value`` (any picklable object) on every rank."""
    if not context.distributed:
        return value
    import torch.distributed as dist

    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]
