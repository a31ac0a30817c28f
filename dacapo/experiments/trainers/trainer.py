"""Runtime base of trainers: optimizer and learning-rate schedule, the batch provider life cycle
(``build_batch_provider`` → ``with trainer:`` → ``next_batch(i)``) and snapshots."""

from __future__ import annotations

import abc
from pathlib import Path
from typing import Any, Optional

import numpy as np


class Trainer(abc.ABC):
    """Runtime counterpart of a ``TrainerConfig``.

    Usage::

        trainer = config.trainer_type(config)
        optimizer = trainer.create_optimizer(model)
        scheduler = trainer.create_scheduler(optimizer)
        trainer.build_batch_provider(datasplit.train, model, task, seed=run_seed)
        with trainer:
            for i in range(start, stop):
                batch = trainer.next_batch(i)   # dict of numpy arrays
                ...
    """

    def __init__(self, config):
        self.config = config
        self.learning_rate = config.learning_rate
        self.batch_size = config.batch_size

    # --- optimisation ------------------------------------------------------------------------
    def create_optimizer(self, model):
        """The optimizer of the config (RAdam with decoupled weight decay by default, as the
        original). The learning-rate schedule comes from ``create_scheduler``."""
        import torch

        name = getattr(self.config, "optimizer", "RAdam")
        weight_decay = float(getattr(self.config, "weight_decay", 0.0))
        params = [p for p in model.parameters() if p.requires_grad]
        lr = self.learning_rate
        if name == "RAdam":
            optimizer = torch.optim.RAdam(
                params, lr=lr, weight_decay=weight_decay, decoupled_weight_decay=True
            )
        elif name == "Adam":
            optimizer = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
        elif name == "AdamW":
            optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
        elif name == "SGD":
            optimizer = torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=weight_decay)
        else:  # pragma: no cover - the config validates the name
            raise ValueError(f"unknown optimizer {name!r}")
        return optimizer

    def create_scheduler(self, optimizer):
        """Linear warm-up from ``warmup_start_factor`` × lr to lr over ``warmup_iterations``
        steps (the original: 0.01 over 1000 iterations), constant afterwards. Call
        ``scheduler.step()`` once per iteration, and create one scheduler per optimizer only
        (``LinearLR`` scales the optimizer's current learning rate when created)."""
        import torch

        iterations = int(getattr(self.config, "warmup_iterations", 1000))
        start = float(getattr(self.config, "warmup_start_factor", 0.01))
        if iterations <= 0 or start >= 1.0:
            return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0)
        return torch.optim.lr_scheduler.LinearLR(
            optimizer, start_factor=start, end_factor=1.0, total_iters=iterations
        )

    # --- data ----------------------------------------------------------------------------------
    def inference_transform(self, raw: np.ndarray) -> np.ndarray:
        """Raw as the model saw it in training, for prediction: the deterministic parts of the
        augments, in order."""
        for augment in getattr(self.config, "augments", ()):
            raw = augment.inference_transform(raw)
        return raw

    def iterate(self, num_iterations: int, model, optimizer, device):
        """dacapo-ml 0.3.5's training loop; here ``dacapo.train_run`` drives ``next_batch``."""
        raise NotImplementedError(
            "Trainer.iterate (dacapo-ml 0.3.5) does not exist in DaCapo; use "
            "dacapo.train_run(run), or next_batch(iteration) for batches (see docs/migration.md)"
        )

    def can_train(self, datasets) -> bool:
        """Whether every dataset has ground truth (dacapo-ml 0.3.5's check)."""
        return all(dataset.gt is not None for dataset in datasets)

    @abc.abstractmethod
    def build_batch_provider(self, datasets, model, task, seed: int = 0, snapshot_container=None):
        """Prepare (not start) the batch provider for ``datasets`` (list of ``Dataset``)."""

    @abc.abstractmethod
    def next_batch(self, iteration: int) -> dict[str, np.ndarray]:
        """The batch for ``iteration``: ``raw``, ``gt``, ``target``, ``weight``, ``mask``."""

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        return False

    # --- snapshots -----------------------------------------------------------------------------
    def write_snapshot(
        self,
        container: Path,
        iteration: int,
        batch: dict[str, Any],
        prediction: Optional[Any] = None,
        raw_voxel_size=None,
        raw_offset=None,
        output_voxel_size=None,
        output_offset=None,
    ) -> Path:
        """Write ``raw``, ``gt``, ``target``, ``weight``, ``mask`` (those present) and
        ``prediction`` to ``<container>/<iteration>/<key>`` as zarr arrays with funlib metadata
        (``voxel_size``, ``offset``, ``axis_names`` with ``b^``/``c^`` for batch and channel
        axes, ``units``). Returns the iteration group's path."""
        from funlib.geometry import Coordinate
        from funlib.persistence import prepare_ds

        if raw_voxel_size is None or output_voxel_size is None:
            raise ValueError("write_snapshot needs the raw and output voxel sizes")
        raw_voxel_size = Coordinate(raw_voxel_size)
        output_voxel_size = Coordinate(output_voxel_size)
        dims = len(raw_voxel_size)
        raw_offset = Coordinate(raw_offset) if raw_offset is not None else raw_voxel_size * 0
        output_offset = (
            Coordinate(output_offset) if output_offset is not None else output_voxel_size * 0
        )

        arrays = {k: batch[k] for k in ("raw", "gt", "target", "weight", "mask") if k in batch}
        if prediction is not None:
            arrays["prediction"] = prediction

        group = Path(container) / str(int(iteration))
        spatial_names = ["z", "y", "x"][-dims:] if dims <= 3 else [f"d{i}" for i in range(dims)]
        for key, value in arrays.items():
            data = _to_numpy(value)
            if key in ("raw", "target", "weight", "prediction") and data.dtype != np.float32:
                data = data.astype(np.float32)
            extra = data.ndim - dims
            if extra < 1:
                raise ValueError(f"snapshot {key}: expected a batch axis, got shape {data.shape}")
            channel_names = ["b^"] + [f"c{i}^" if extra > 2 else "c^" for i in range(extra - 1)]
            voxel_size, offset = (
                (raw_voxel_size, raw_offset) if key == "raw" else (output_voxel_size, output_offset)
            )
            ds = prepare_ds(
                str(group / key),
                shape=data.shape,
                offset=offset,
                voxel_size=voxel_size,
                axis_names=channel_names + spatial_names,
                units=["nm"] * dims,
                types=["channel"] * extra + ["space"] * dims,
                chunk_shape=data.shape,
                dtype=data.dtype,
                mode="w",
            )
            ds[ds.roi] = data
        return group


def _to_numpy(value) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().float().cpu().numpy() if value.is_floating_point() else (
            value.detach().cpu().numpy()
        )
    return np.asarray(value)
