"""Run by ``torch.multiprocessing.spawn``: k DDP steps of a run's model on this rank's half of
the batches, with ``dacapo.train.train_step`` and ``dacapo.distributed``."""

from __future__ import annotations

import os


def ddp_steps(rank: int, world_size: int, port: int, config, batches, out: str) -> None:
    import torch

    from dacapo import distributed
    from dacapo.experiments.run import Run

    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    ranks = distributed.RankContext(rank, world_size, rank, "torchrun")
    device = torch.device("cpu")
    distributed.init_process_group(ranks, device)
    finished = False
    try:
        run = Run(config)
        model = distributed.wrap_model(run.model, ranks, device)
        losses = steps(run, model, batches, rank, world_size, ranks)
        if rank == 0:
            torch.save({"model": run.model.state_dict(), "losses": losses}, out)
        finished = True
    finally:
        distributed.leave(ranks, finished)


def steps(run, model, batches, rank, world_size, ranks=None) -> list:
    """``train_step`` on every batch, this rank's slice of the batch axis."""
    import torch

    from dacapo.train import train_step
    from dacapo.utils.torch_utils import grad_scaler

    scaler = grad_scaler("cpu")
    losses = []
    for raw, target, weight in batches:
        part = slice(rank * len(raw) // world_size, (rank + 1) * len(raw) // world_size)
        _, loss = train_step(model, run.optimizer, scaler, run.task.loss,
                             torch.as_tensor(raw[part]), torch.as_tensor(target[part]),
                             torch.as_tensor(weight[part]), "cpu", ranks)
        losses.append(loss)
    return losses
