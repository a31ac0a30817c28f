"""Hot-distance predictor: per gt channel a binary ("hot") channel and a distance channel."""

from __future__ import annotations

import numpy as np

from .._heads import conv_head
from .distance_predictor import DistancePredictor, balance_weights
from .predictor import Predictor


class HotDistancePredictor(Predictor):
    """For ``C`` gt channels, ``2 C`` outputs: first the binary channels (``<c>``: 1 where the
    gt channel is non-zero; logits, sigmoid in eval), then the distance channels
    (``<c>_distance``: as ``DistancePredictor``). Weights: both halves class-balanced (and
    distance-masked with ``mask_distances``)."""

    def __init__(self, channels, scale_factor=1.0, mask_distances=False, clipmin=0.05,
                 clipmax=0.95, num_threads: int = 1, kernel_size: int = 1):
        self.distance = DistancePredictor(
            channels, scale_factor, mask_distances, clipmin, clipmax, num_threads
        )
        self.classes = self.distance.channels
        self.kernel_size = kernel_size

    @property
    def channels(self) -> list[str]:
        return self.classes + [f"{c}_distance" for c in self.classes]

    def padding(self, gt_voxel_size):
        return self.distance.padding(gt_voxel_size)

    def create_model(self, architecture):
        from dacapo.experiments.model import Model

        from .._modules import SigmoidFirst

        head = conv_head(architecture, self.num_channels, self.kernel_size)
        return Model(architecture, head, eval_activation=SigmoidFirst(len(self.classes)))

    def create_target(self, gt, voxel_size) -> np.ndarray:
        gt = self.distance._as_channels(gt, voxel_size, "gt")
        hot = (gt != 0).astype(np.float32)
        return np.concatenate([hot, self.distance.create_target(gt, voxel_size)], axis=0)

    def create_weight(self, gt, target, mask, voxel_size) -> np.ndarray:
        gt = self.distance._as_channels(gt, voxel_size, "gt")
        c = gt.shape[0]
        distance_weight = self.distance.create_weight(gt, np.asarray(target)[c:], mask, voxel_size)
        masks = self.distance._channel_masks(mask, gt.shape, voxel_size)
        hot_weight = np.stack([
            balance_weights(gt[i] != 0, masks[i], self.distance.clipmin, self.distance.clipmax)
            for i in range(c)
        ])
        return np.concatenate([hot_weight, distance_weight], axis=0).astype(np.float32)
