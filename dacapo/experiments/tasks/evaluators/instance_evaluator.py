"""Instance segmentation metrics: variation of information and adapted Rand error."""

from __future__ import annotations

import numpy as np

from .._heads import spatial_labels, spatial_mask
from .binary_segmentation_evaluator import _read
from .evaluator import Evaluator
from .instance_evaluation_scores import InstanceEvaluationScores


def instance_scores(segmentation, gt, valid=None) -> InstanceEvaluationScores:
    """Scores of the label array ``segmentation`` against gt instance ids (same shape);
    with ``valid``, only valid voxels count."""
    from skimage.metrics import adapted_rand_error, variation_of_information

    segmentation = np.asarray(segmentation)
    gt = np.asarray(gt)
    if segmentation.shape != gt.shape:
        raise ValueError(f"shapes differ: {segmentation.shape} vs {gt.shape}")
    if valid is not None:
        segmentation = segmentation[valid]
        gt = gt[valid]
    segmentation = segmentation.ravel().astype(np.int64)
    gt = gt.ravel().astype(np.int64)
    if gt.size == 0:
        return InstanceEvaluationScores()
    with np.errstate(invalid="ignore", divide="ignore"):
        split, merge = variation_of_information(gt, segmentation)
        if np.any(gt != 0):
            error, precision, recall = adapted_rand_error(gt, segmentation)
        else:
            error = precision = recall = float("nan")
    return InstanceEvaluationScores(
        voi=float(split + merge),
        voi_split=float(split),
        voi_merge=float(merge),
        adapted_rand_error=float(error),
        adapted_rand_precision=float(precision),
        adapted_rand_recall=float(recall),
    )


class InstanceEvaluator(Evaluator):
    """Evaluates a label array (``(*spatial)`` or ``(1, *spatial)``) against gt instance ids.
    Criteria (``voi`` first, all errors lower-is-better): see ``InstanceEvaluationScores``."""

    @property
    def score(self) -> InstanceEvaluationScores:
        return InstanceEvaluationScores()

    def evaluate(self, output, gt, voxel_size=None, mask=None, **kwargs):
        if voxel_size is None and not hasattr(output, "roi"):
            voxel_size = (1,) * np.asarray(gt).ndim
        output, gt, mask, voxel_size = _read(output, gt, mask, voxel_size)
        dims = len(voxel_size)
        gt = spatial_labels(gt, dims)
        output = spatial_labels(output, dims, "output")
        return instance_scores(output, gt, spatial_mask(mask, gt.shape))

    def baselines(self, gt, voxel_size=None, mask=None) -> dict[str, InstanceEvaluationScores]:
        """``one_segment`` (everything merged: VOI merge = H(gt), no split) and ``every_voxel``
        (each voxel its own segment: no merge, the largest split)."""
        if voxel_size is None and not hasattr(gt, "roi"):
            voxel_size = (1,) * np.asarray(gt).ndim
        _, gt, mask, voxel_size = _read(gt, gt, mask, voxel_size)
        gt = spatial_labels(gt, len(voxel_size))
        valid = spatial_mask(mask, gt.shape)
        every_voxel = np.arange(1, gt.size + 1, dtype=np.int64).reshape(gt.shape)
        return {
            "one_segment": instance_scores(np.ones(gt.shape, dtype=np.int64), gt, valid),
            "every_voxel": instance_scores(every_voxel, gt, valid),
        }

from dacapo.compat import removed_names  # noqa: E402

__getattr__ = removed_names(__name__)  # the names of dacapo-ml 0.3.5 that are gone
