"""Base of the predictors: the model head, and targets and weights computed from gt."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np


class Predictor(ABC):
    """Creates the model head and, in the data-loading workers (pure numpy), the training
    target and weight for a gt block.

    ``gt`` is the array the gt config yields for the output ROI (channels first where it has
    channels), ``mask`` is uint8 (1 = annotated/valid) or None (all valid), ``voxel_size`` is the
    voxel size (nm) of gt, target and weight."""

    #: ``(low, high)`` of the model's predictions in eval mode (blockwise jobs store predictions
    #: in integer dtypes over this range). The default suits tanh-normalised distances and
    #: heads without an activation; predictors with a sigmoid/softmax declare ``(0.0, 1.0)``.
    output_range: tuple[float, float] = (-1.0, 1.0)

    @property
    @abstractmethod
    def channels(self) -> list[str]:
        """Names of the output channels."""

    @property
    def num_channels(self) -> int:
        return len(self.channels)

    @property
    def embedding_dims(self) -> int:
        """Number of output channels (the original's name)."""
        return self.num_channels

    @abstractmethod
    def create_model(self, architecture):
        """``dacapo.experiments.model.Model(architecture, head, eval_activation)``."""

    @abstractmethod
    def create_target(self, gt: np.ndarray, voxel_size) -> np.ndarray:
        """float32, channels first."""

    @abstractmethod
    def create_weight(
        self, gt: np.ndarray, target: np.ndarray, mask: np.ndarray | None, voxel_size
    ) -> np.ndarray:
        """float32, same shape as ``target``."""
