"""Runtime of ``DummyTrainerConfig``: batches of random raw and zero targets."""

from __future__ import annotations

import numpy as np

from .trainer import Trainer


class DummyTrainer(Trainer):
    def __init__(self, config):
        super().__init__(config)
        self.mirror_augment = config.mirror_augment
        self._model = None

    def build_batch_provider(self, datasets, model, task, seed: int = 0, snapshot_container=None):
        self._model = model
        self._rng = np.random.default_rng(seed)

    def next_batch(self, iteration: int) -> dict[str, np.ndarray]:
        model = self._model
        raw = self._rng.standard_normal(
            (self.batch_size, model.num_in_channels, *model.input_shape)
        ).astype(np.float32)
        target_shape = (self.batch_size, model.num_out_channels, *model.output_shape)
        target = np.zeros(target_shape, dtype=np.float32)
        return {"raw": raw, "target": target, "weight": np.ones_like(target)}
