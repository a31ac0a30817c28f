"""``Run``: the runtime counterpart of ``RunConfig``: task, architecture, model, trainer and
datasplit built from their configs, plus the optimizer and LR schedule."""

from __future__ import annotations

import zlib
from functools import cached_property

from .run_config import RunConfig


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
        return self.config.datasplit_config.datasplit_type(self.config.datasplit_config)

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
