"""The hot-distance task."""

from __future__ import annotations

from .evaluators.binary_segmentation_evaluator import BinarySegmentationEvaluator
from .losses.hot_distance_loss import HotDistanceLoss
from .post_processors.hot_distance_post_processor import HotDistancePostProcessor
from .predictors.hot_distance_predictor import HotDistancePredictor
from .task import Task


class HotDistanceTask(Task):
    def __init__(self, task_config):
        self.name = task_config.name
        self.config = task_config
        self.predictor = HotDistancePredictor(
            channels=task_config.channels,
            scale_factor=task_config.scale_factor,
            mask_distances=task_config.mask_distances,
            clipmin=task_config.clipmin,
            clipmax=task_config.clipmax,
            kernel_size=task_config.kernel_size or 1,
        )
        n = len(task_config.channels)
        self.loss = HotDistanceLoss(n)
        self.post_processor = HotDistancePostProcessor(n, task_config.thresholds)
        self.evaluator = BinarySegmentationEvaluator(
            clip_distance=task_config.clip_distance,
            tol_distance=task_config.tol_distance,
            channels=task_config.channels,
        )
