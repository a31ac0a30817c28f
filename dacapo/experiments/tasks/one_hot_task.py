"""The one-hot task: softmax classes, cross-entropy, argmax, per-class binary metrics."""

from __future__ import annotations

from .evaluators.one_hot_evaluator import OneHotEvaluator
from .losses.cross_entropy_loss import CrossEntropyLoss
from .post_processors.argmax_post_processor import ArgmaxPostProcessor
from .predictors.one_hot_predictor import OneHotPredictor
from .task import Task


class OneHotTask(Task):
    """Runtime counterpart of ``OneHotTaskConfig``. The evaluator counts an error within
    ``tol_distance`` (0 nm: none) as matched and clips false distances to ``clip_distance``."""

    tol_distance = 0.0
    clip_distance = 1e9

    def __init__(self, task_config):
        self.name = task_config.name
        self.config = task_config
        self.predictor = OneHotPredictor(task_config.classes, task_config.kernel_size)
        self.loss = CrossEntropyLoss()
        self.post_processor = ArgmaxPostProcessor()
        self.evaluator = OneHotEvaluator(
            clip_distance=self.clip_distance,
            tol_distance=self.tol_distance,
            channels=task_config.classes,
        )
