"""TensorBoard event files of a run: ``<runs_base_dir>/<run>/tensorboard/train`` holds the
training loss, learning rate and data time of every iteration and central slices of the snapshots
(at the step of the iteration whose batch they show); ``.../tensorboard/validation`` holds the
validation scores (the best over the post-processing sweep, per dataset and criterion) at the
step of the validated checkpoint. ``tensorboard --logdir <runs_base_dir>`` shows all runs.

Two directories because a background ``dacapo validate`` writes while training goes on, and
TensorBoard follows only the newest event file of a directory while it is being written.

Without the ``tensorboard`` package every method is a no-op (said once at INFO): training and
validation never depend on it."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

logger = logging.getLogger(__name__)
_said_missing = False


def board_directory(run_name: str, part: str = "train") -> Path:
    """``part``: ``"train"`` or ``"validation"``."""
    from dacapo.options import run_directory

    return run_directory(run_name) / "tensorboard" / part


def _summary_writer_class():
    global _said_missing
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # tensorboard is not installed
        if not _said_missing:
            logger.info("tensorboard is not installed: no TensorBoard event files are written")
            _said_missing = True
        return None
    return SummaryWriter


class RunBoard:
    """Writers are opened on first use. ``purge_step``: a resumed training discards the
    training events from that step on (iterations after the checkpoint it resumed from), so
    curves never show rolled-back iterations twice."""

    def __init__(self, run_name: str, purge_step: Optional[int] = None):
        self.run_name = run_name
        self.purge_step = purge_step
        self.writers: dict[str, Any] = {}

    def _writer(self, part: str):
        if part not in self.writers:
            writer_class = _summary_writer_class()
            writer = None
            if writer_class is not None:
                directory = board_directory(self.run_name, part)
                directory.mkdir(parents=True, exist_ok=True)
                purge = self.purge_step if part == "train" else None
                writer = writer_class(str(directory), purge_step=purge, flush_secs=30)
            self.writers[part] = writer
        return self.writers[part]

    def training(self, stats) -> None:
        """One ``TrainingIterationStats``, at the step of its iteration."""
        writer = self._writer("train")
        if writer is None:
            return
        step = stats.iteration
        writer.add_scalar("train/loss", stats.loss, step)
        if stats.learning_rate is not None:
            writer.add_scalar("train/learning_rate", stats.learning_rate, step)
        if getattr(stats, "data_time", None) is not None:
            writer.add_scalar("train/data_time", stats.data_time, step)

    def snapshot(self, iteration: int, images: dict[str, Any], spatial_dims: int) -> None:
        """The central slice of the first sample (and first channel) of each array of the
        batch of ``iteration``."""
        writer = self._writer("train")
        if writer is None:
            return
        for name, value in images.items():
            image = central_slice(value, spatial_dims)
            if image is not None:
                writer.add_image(f"snapshot/{name}", image, iteration, dataformats="HW")

    def validation(self, iteration: int, scores, datasets: Sequence, parameters: Sequence,
                   criteria: Sequence[str], higher_is_better) -> None:
        """``scores``: ``[dataset][parameter][criterion]`` of checkpoint ``iteration``."""
        writer = self._writer("validation")
        if writer is None:
            return
        values = np.asarray(scores, dtype=float)
        for d, dataset in enumerate(datasets):
            for c, criterion in enumerate(criteria):
                column = values[d, :, c]
                if np.all(np.isnan(column)):
                    continue
                best = np.nanmax(column) if higher_is_better(criterion) else np.nanmin(column)
                name = getattr(dataset, "name", dataset)
                writer.add_scalar(f"validation/{name}/{criterion}", float(best), iteration)

    def flush(self) -> None:
        for writer in self.writers.values():
            if writer is not None:
                writer.flush()

    def close(self) -> None:
        for writer in self.writers.values():
            if writer is not None:
                writer.close()
        self.writers = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def central_slice(value: Any, spatial_dims: int) -> Optional[np.ndarray]:
    """A 2D float image in [0, 1]: the first sample and channel, the middle section along the
    first spatial axis of 3D data; ``None`` if it has no two spatial axes."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    data = np.asarray(value)
    if spatial_dims < 2 or data.ndim < spatial_dims:
        return None
    while data.ndim > spatial_dims:
        data = data[0]
    while data.ndim > 2:
        data = data[data.shape[0] // 2]
    data = data.astype(np.float32)
    finite = np.isfinite(data)
    if not finite.any():
        return np.zeros(data.shape, np.float32)
    low, high = float(data[finite].min()), float(data[finite].max())
    scaled = (data - low) / (high - low) if high > low else np.zeros_like(data)
    return np.where(finite, scaled, 0.0).astype(np.float32)
