"""Instance segmentation metrics: variation of information and adapted Rand error."""

from __future__ import annotations

import numpy as np

from .._heads import spatial_labels, spatial_mask
from .binary_segmentation_evaluator import _read
from .evaluator import Evaluator
from .instance_evaluation_scores import InstanceEvaluationScores
from .statistics import ContingencyTable


def instance_scores(segmentation, gt, valid=None) -> InstanceEvaluationScores:
    """Scores of the label array ``segmentation`` against gt instance ids (same shape);
    with ``valid``, only valid voxels count (from their ``ContingencyTable``, as when a large
    volume is scored block by block)."""
    return ContingencyTable.of(gt, segmentation, valid).scores()


class InstanceEvaluator(Evaluator):
    """Evaluates a label array (``(*spatial)`` or ``(1, *spatial)``) against gt instance ids.
    Criteria (``voi`` first, all errors lower-is-better): see ``InstanceEvaluationScores``."""

    @property
    def score(self) -> InstanceEvaluationScores:
        return InstanceEvaluationScores()

    def evaluate(self, output, gt, voxel_size=None, mask=None, **kwargs):
        return self.statistics(output, gt, voxel_size, mask).scores()

    streams = True

    def statistics(self, output, gt, voxel_size=None, mask=None) -> ContingencyTable:
        if voxel_size is None and not hasattr(output, "roi"):
            voxel_size = (1,) * np.asarray(gt).ndim
        output, gt, mask, voxel_size = _read(output, gt, mask, voxel_size)
        dims = len(voxel_size)
        gt = spatial_labels(gt, dims)
        output = spatial_labels(output, dims, "output")
        return ContingencyTable.of(gt, output, spatial_mask(mask, gt.shape))

    def baseline_statistics(self, gt, voxel_size=None, mask=None) -> ContingencyTable:
        """The gt's sizes (its table against one segment)."""
        if voxel_size is None and not hasattr(gt, "roi"):
            voxel_size = (1,) * np.asarray(gt).ndim
        _, gt, mask, voxel_size = _read(gt, gt, mask, voxel_size)
        gt = spatial_labels(gt, len(voxel_size))
        return ContingencyTable.of(gt, np.ones(gt.shape, np.int64), spatial_mask(mask, gt.shape))

    def baselines_of(self, statistics: ContingencyTable) -> dict[str, InstanceEvaluationScores]:
        """``one_segment`` (everything merged: VOI merge = H(gt), no split) and ``every_voxel``
        (each voxel its own segment: no merge, the largest split)."""
        return statistics.baselines()


from dacapo.compat import removed_names  # noqa: E402

__getattr__ = removed_names(__name__)  # the names of dacapo-ml 0.3.5 that are gone
