"""The affinities task: affinities (+ LSDs), weighted BCE, mutex watershed, instance metrics."""

from __future__ import annotations

from .evaluators.instance_evaluator import InstanceEvaluator
from .losses.affinities_loss import AffinitiesLoss
from .post_processors.watershed_post_processor import WatershedPostProcessor
from .predictors.affinities_predictor import AffinitiesPredictor
from .task import Task


class AffinitiesTask(Task):
    """Runtime counterpart of ``AffinitiesTaskConfig``."""

    def __init__(self, task_config):
        self.name = task_config.name
        self.config = task_config
        self.predictor = AffinitiesPredictor(
            neighborhood=task_config.neighborhood,
            lsds=task_config.lsds,
            num_lsd_voxels=task_config.num_lsd_voxels,
            downsample_lsds=task_config.downsample_lsds,
            grow_boundary_iterations=task_config.grow_boundary_iterations,
            affs_weight_clipmin=task_config.affs_weight_clipmin,
            affs_weight_clipmax=task_config.affs_weight_clipmax,
            lsd_weight_clipmin=task_config.lsd_weight_clipmin,
            lsd_weight_clipmax=task_config.lsd_weight_clipmax,
            background_as_object=task_config.background_as_object,
        )
        self.loss = AffinitiesLoss(
            self.predictor.num_affinities, task_config.lsds_to_affs_weight_ratio
        )
        self.post_processor = WatershedPostProcessor(
            task_config.neighborhood, biases=task_config.biases,
            background=task_config.background,
            background_as_object=task_config.background_as_object,
            blockwise_context=task_config.blockwise_context,
        )
        self.evaluator = InstanceEvaluator()
