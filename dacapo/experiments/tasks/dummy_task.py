"""The dummy task: ``gt != 0`` in every channel, MSE, one threshold, binary metrics."""

from __future__ import annotations

import numpy as np

from ._heads import conv_head
from .evaluators.binary_segmentation_evaluator import BinarySegmentationEvaluator
from .losses.mse_loss import MSELoss
from .post_processors.threshold_post_processor import ThresholdPostProcessor
from .predictors.distance_predictor import balance_weights
from .predictors.predictor import Predictor
from .task import Task


class DummyPredictor(Predictor):
    def __init__(self, embedding_dims: int = 1):
        self.embedding = int(embedding_dims)

    @property
    def channels(self) -> list[str]:
        return [f"dummy_{i}" for i in range(self.embedding)]

    def create_model(self, architecture):
        from dacapo.experiments.model import Model

        return Model(architecture, conv_head(architecture, self.embedding), eval_activation=None)

    def _fg(self, gt, voxel_size):
        gt = np.asarray(gt)
        if gt.ndim == len(voxel_size) + 1:
            gt = gt.any(axis=0) if gt.dtype == bool else (gt != 0).any(axis=0)
        return gt != 0

    def create_target(self, gt, voxel_size) -> np.ndarray:
        fg = self._fg(gt, voxel_size).astype(np.float32)
        return np.broadcast_to(fg, (self.embedding,) + fg.shape).copy()

    def create_weight(self, gt, target, mask, voxel_size) -> np.ndarray:
        fg = self._fg(gt, voxel_size)
        valid = None
        if mask is not None:
            m = np.asarray(mask)
            valid = (m[0] if m.ndim == fg.ndim + 1 else m) != 0
        w = balance_weights(fg, valid)
        return np.broadcast_to(w, (self.embedding,) + fg.shape).copy()


class _DummyEvaluator(BinarySegmentationEvaluator):
    def _binary_gt(self, gt, mask, voxel_size):
        fg = DummyPredictor._fg(None, gt, voxel_size).astype(np.uint8)
        return np.broadcast_to(fg, (len(self.channels),) + fg.shape), mask


class DummyTask(Task):
    def __init__(self, task_config):
        self.name = task_config.name
        self.config = task_config
        self.predictor = DummyPredictor(task_config.embedding_dims)
        self.loss = MSELoss()
        self.post_processor = ThresholdPostProcessor([task_config.detection_threshold])
        self.evaluator = _DummyEvaluator(1e9, 0.0, self.predictor.channels)
