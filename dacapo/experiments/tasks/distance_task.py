"""The distance task: tanh-normalised signed distances, weighted MSE, threshold sweep, binary
segmentation metrics."""

from __future__ import annotations

from .evaluators.binary_segmentation_evaluator import BinarySegmentationEvaluator
from .losses.mse_loss import MSELoss
from .post_processors.threshold_post_processor import ThresholdPostProcessor
from .predictors.distance_predictor import DistancePredictor
from .task import Task


class DistanceTask(Task):
    """Runtime counterpart of ``DistanceTaskConfig``."""

    def __init__(self, task_config):
        self.name = task_config.name
        self.config = task_config
        self.predictor = DistancePredictor(
            channels=task_config.channels,
            scale_factor=task_config.scale_factor,
            mask_distances=task_config.mask_distances,
            clipmin=task_config.clipmin,
            clipmax=task_config.clipmax,
        )
        self.loss = MSELoss()
        self.post_processor = ThresholdPostProcessor(task_config.thresholds)
        self.evaluator = BinarySegmentationEvaluator(
            clip_distance=task_config.clip_distance,
            tol_distance=task_config.tol_distance,
            channels=task_config.channels,
        )
