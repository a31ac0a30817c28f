"""``Run``: the runtime counterpart of ``RunConfig``: task, architecture, model, trainer and
datasplit built from their configs, plus the optimizer and LR schedule."""

from __future__ import annotations

import zlib
from functools import cached_property
from typing import Optional

from dacapo.config import ConfigError

from .run_config import RunConfig


def _channels(array) -> int:
    """Number of channels of an array (1 without a channel axis)."""
    channel_dims = int(getattr(array, "channel_dims", 0))
    count = 1
    for size in array.shape[:channel_dims]:
        count *= int(size)
    return count


class Run:
    def __init__(self, config: RunConfig, load_starter_model: bool = True):
        self.config = config
        self.name = config.name
        self.train_until = config.num_iterations
        self.validation_interval = config.validation_interval

        import torch

        torch.manual_seed(self.seed)  # reproducible weight initialisation
        self.task = config.task_config.task_type(config.task_config)
        self.architecture = config.architecture_config.architecture_type(config.architecture_config)
        self.trainer = config.trainer_config.trainer_type(config.trainer_config)
        self.model = self.task.predictor.create_model(self.architecture)
        self.optimizer = self.trainer.create_optimizer(self.model)
        self.scheduler = self.trainer.create_scheduler(self.optimizer)
        self.start = (
            config.start_config.start_type(config.start_config)
            if config.start_config is not None
            else None
        )
        self._load_starter_model = load_starter_model

    @cached_property
    def datasplit(self):
        """The datasplit, checked against the task and model on first use: a mismatch (gt
        channels the task cannot use, raw channels the model does not take) is a one-line
        ``ConfigError`` here rather than a shape error inside a data worker."""
        datasplit = self.config.datasplit_config.datasplit_type(self.config.datasplit_config)
        for dataset in [*datasplit.train, *datasplit.validate]:
            problem = self._voxel_size_problem(dataset) or self._data_problem(dataset)
            if problem is not None:
                raise ConfigError(f"RunConfig {self.name!r}: dataset {dataset.name!r}: {problem}")
        train_sizes = {tuple(d.raw.voxel_size) for d in datasplit.train if d.weight > 0}
        if len(train_sizes) > 1:
            raise ConfigError(
                f"RunConfig {self.name!r}: the training raw arrays have different voxel sizes "
                f"{sorted(train_sizes)}; the model sees one (resample them to one voxel size)"
            )
        return datasplit

    def check(self) -> None:
        """What ``RunConfig.verify`` checks, as a one-line ``ConfigError`` (training calls this
        before it creates anything)."""
        problem = self.config.part_problem()
        if problem is not None:
            raise ConfigError(problem)
        self.datasplit

    def _voxel_size_problem(self, dataset) -> Optional[str]:
        """The voxel sizes through the model: raw (its input) → ``model.scale`` → the output,
        which gt and mask must match; every offset on its array's voxel grid."""
        from funlib.geometry import Coordinate

        raw_size = Coordinate(dataset.raw.voxel_size)
        input_dims = len(self.model.input_shape)
        architecture = self.config.architecture_config.name
        if len(raw_size) != input_dims:
            return (f"raw voxel size {tuple(raw_size)} has {len(raw_size)} dimensions but "
                    f"architecture {architecture!r} takes {input_dims}D input")
        output_size = Coordinate(self.model.scale(raw_size))
        for what in ("gt", "mask"):
            array = getattr(dataset, what, None)
            if array is not None and Coordinate(array.voxel_size) != output_size:
                return (f"{what} voxel size {tuple(array.voxel_size)} != model output voxel "
                        f"size {tuple(output_size)} (raw at {tuple(raw_size)} through architecture "
                        f"{architecture!r}); resample the {what} or change the raw/architecture")
        for what in ("raw", "gt", "mask"):
            array = getattr(dataset, what, None)
            if array is None:
                continue
            size = Coordinate(array.voxel_size)
            if array.roi.offset % size != size * 0:
                return (f"{what} offset {tuple(array.roi.offset)} is not a multiple of its voxel "
                        f"size {tuple(size)}")
        if dataset.gt is not None and not dataset.raw.roi.intersects(dataset.gt.roi):
            return f"raw {dataset.raw.roi} and gt {dataset.gt.roi} do not overlap"
        return None

    def _data_problem(self, dataset) -> Optional[str]:
        import numpy as np

        raw_channels = _channels(dataset.raw)
        num_in = getattr(self.model, "num_in_channels", None)
        if num_in is not None and raw_channels != int(num_in):
            return (
                f"raw has {raw_channels} channel(s) (shape {tuple(dataset.raw.shape)}) but "
                f"architecture {self.config.architecture_config.name!r} takes {num_in}; set its "
                f"fmaps_in to {raw_channels} or choose another raw_config"
            )
        gt = dataset.gt
        if gt is None:
            return None
        channel_dims = int(getattr(gt, "channel_dims", 0))
        # a tiny block of the gt's channel layout: can the task make targets from it?
        probe = np.zeros(tuple(gt.shape[:channel_dims]) + (2,) * len(gt.voxel_size), gt.dtype)
        try:
            self.task.predictor.create_target(probe, gt.voxel_size)
        except (ValueError, IndexError, TypeError):
            task = self.config.task_config
            return (
                f"gt has {_channels(gt)} channel(s) (shape {tuple(gt.shape)}) but task "
                f"{task.name!r} ({type(task).__name__}) predicts {self.task.predictor.channels}: "
                "give the task one channel per gt channel, or the gt one channel per task "
                "channel (e.g. one BinarizeArrayConfig grouping each)"
            )
        return None

    @property
    def seed(self) -> int:
        """The run's seed: explicit, or derived from its name and repetition (stable across
        processes, unlike ``hash``)."""
        if self.config.seed is not None:
            return self.config.seed
        return zlib.crc32(f"{self.name}:{self.config.repetition}".encode()) % (2**31)

    def initialize_from_start(self) -> None:
        """Load the start weights (another run's checkpoint) into a fresh model."""
        if self.start is not None and self._load_starter_model:
            self.start.initialize_weights(self.model, channels=self.task.channels)

    def __repr__(self) -> str:
        return f"Run({self.name!r})"
