"""Per-class binary metrics of one-hot outputs against class gt."""

from __future__ import annotations

import numpy as np

from ..predictors.one_hot_predictor import class_indices, one_hot
from .binary_segmentation_evaluator import BinarySegmentationEvaluator


class OneHotEvaluator(BinarySegmentationEvaluator):
    """``BinarySegmentationEvaluator`` on each class channel: ``output`` is one-hot
    ``(C, *spatial)`` (``ArgmaxPostProcessor``), ``gt`` class indices or class channels (see
    ``OneHotPredictor``); voxels of unknown class are ignored. Criteria ``<class>__dice`` etc."""

    def _binary_gt(self, gt, mask, voxel_size):
        n = len(self.channels)
        indices, known = class_indices(gt, n, len(voxel_size))
        gt_channels = one_hot(indices, known, n)
        if mask is not None:
            m = np.asarray(mask)
            if m.ndim == indices.ndim + 1:
                m = m.max(axis=0) if m.shape[0] > 1 else m[0]
            known = known & (m != 0)
        return gt_channels, (None if known.all() else known.astype(np.uint8))
