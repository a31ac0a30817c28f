"""The inner-distance task."""

from __future__ import annotations

from .evaluators.binary_segmentation_evaluator import BinarySegmentationEvaluator
from .losses.mse_loss import MSELoss
from .post_processors.threshold_post_processor import ThresholdPostProcessor
from .predictors.inner_distance_predictor import InnerDistancePredictor
from .task import Task



class InnerDistanceTask(Task):
    def __init__(self, task_config):
        self.name = task_config.name
        self.config = task_config
        self.predictor = InnerDistancePredictor(task_config.channels, task_config.scale_factor)
        self.loss = MSELoss()
        self.post_processor = ThresholdPostProcessor(task_config.thresholds)
        self.evaluator = BinarySegmentationEvaluator(
            clip_distance=task_config.clip_distance,
            tol_distance=task_config.tol_distance,
            channels=task_config.channels,
        )
