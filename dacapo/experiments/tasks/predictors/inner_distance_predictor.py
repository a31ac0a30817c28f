"""Inner-distance predictor: per channel, the distance from every instance voxel to the boundary
of its instance (the nearest voxel with another id, background included), tanh-normalised."""

from __future__ import annotations

import numpy as np

from .._distances import distance_to_zero
from .distance_predictor import DistancePredictor


class InnerDistancePredictor(DistancePredictor):
    """gt: instance ids per channel (``(C, *spatial)``, or ``(*spatial)`` for one channel).
    Target: ``tanh(d / scale_factor)`` in [0, 1], ``d`` (nm) the distance from a voxel of
    instance ``i`` to the nearest voxel whose id differs from ``i`` (touching instances
    separate); 0 on background; 1 where an instance fills the crop. Weights: foreground vs
    background balanced, as the distance predictor (no distance masking)."""

    def __init__(self, channels, scale_factor: float = 1.0, clipmin=0.05, clipmax=0.95,
                 num_threads: int = 1):
        super().__init__(channels, scale_factor, False, clipmin, clipmax, num_threads)

    def signed_distances(self, gt, voxel_size) -> np.ndarray:
        gt = self._as_channels(gt, voxel_size, "gt")
        out = np.empty(gt.shape, dtype=np.float32)
        for c in range(gt.shape[0]):
            labels = np.ascontiguousarray(gt[c])
            if labels.dtype.kind not in "ui" or labels.dtype.itemsize > 4:
                _, labels = np.unique(labels, return_inverse=True)
                labels = labels.reshape(gt[c].shape).astype(np.uint32)
                labels[gt[c] == 0] = 0
            out[c] = distance_to_zero(labels, voxel_size, parallel=self.num_threads)
        return out
