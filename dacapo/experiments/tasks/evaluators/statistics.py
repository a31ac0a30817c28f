"""Sufficient statistics of evaluations, added up part by part (``+``), so that a volume too
large for memory is scored block by block with the same result as in one piece.

``ContingencyTable``: the voxel counts of each (gt, segment) pair; VOI split/merge and the
adapted Rand scores are functions of it (the in-memory evaluation computes them from it too).
``BinaryCounts``: TP/FP/FN and valid voxels per channel; the overlap criteria follow exactly,
the distance criteria (Hausdorff, mean false distances, tolerances) need the whole volume and
are NaN (unless the two sets are identical: then every criterion is perfect).
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

_NAN = float("nan")

#: the binary criteria that follow from ``BinaryCounts`` (the others need distances)
COUNT_CRITERIA = frozenset({
    "dice", "jaccard", "false_negative_rate", "false_positive_rate", "false_discovery_rate",
    "precision", "recall", "f1_score",
})


def _xlogx(x: np.ndarray) -> np.ndarray:
    out = np.zeros_like(x, dtype=np.float64)
    nz = x > 0
    out[nz] = x[nz] * np.log2(x[nz])
    return out


class ContingencyTable:
    """Voxel counts of (gt id, segment id) pairs: ``pairs`` int64 ``(n, 2)`` (unique, sorted),
    ``counts`` int64 ``(n,)``."""

    def __init__(self, pairs: Optional[np.ndarray] = None, counts: Optional[np.ndarray] = None):
        self.pairs = np.zeros((0, 2), np.int64) if pairs is None else pairs
        self.counts = np.zeros(0, np.int64) if counts is None else counts

    @classmethod
    def of(cls, gt, segmentation, valid=None) -> "ContingencyTable":
        """The table of two label arrays of one shape (with ``valid``: its non-zero voxels)."""
        gt, segmentation = np.asarray(gt), np.asarray(segmentation)
        if segmentation.shape != gt.shape:
            raise ValueError(f"shapes differ: {segmentation.shape} vs {gt.shape}")
        if valid is not None:
            valid = np.asarray(valid, dtype=bool)
            gt, segmentation = gt[valid], segmentation[valid]
        # hashing (pandas.factorize), not sorting, the voxels: the table itself is small
        import pandas

        g, gt_ids = pandas.factorize(gt.ravel().astype(np.int64))
        s, seg_ids = pandas.factorize(segmentation.ravel().astype(np.int64))
        n = max(len(seg_ids), 1)
        k, keys = pandas.factorize(g.astype(np.int64) * n + s)
        counts = np.bincount(k, minlength=len(keys)).astype(np.int64)
        pairs = np.stack([np.asarray(gt_ids)[keys // n], np.asarray(seg_ids)[keys % n]], 1)
        pairs = pairs.astype(np.int64).reshape(-1, 2)
        order = np.lexsort((pairs[:, 1], pairs[:, 0]))
        return cls(pairs[order], counts[order])

    def __add__(self, other: "ContingencyTable") -> "ContingencyTable":
        pairs = np.concatenate([self.pairs, other.pairs])
        counts = np.concatenate([self.counts, other.counts])
        if not len(pairs):
            return ContingencyTable()
        order = np.lexsort((pairs[:, 1], pairs[:, 0]))
        pairs, counts = pairs[order], counts[order]
        starts = np.flatnonzero(np.r_[True, np.any(pairs[1:] != pairs[:-1], axis=1)])
        return ContingencyTable(pairs[starts], np.add.reduceat(counts, starts))

    @property
    def total(self) -> int:
        return int(self.counts.sum())

    def scores(self):
        """VOI (split = H(segment | gt), merge = H(gt | segment), bits, gt 0 included) and the
        adapted Rand scores (gt 0 ignored), as ``skimage.metrics`` defines them."""
        from .instance_evaluation_scores import InstanceEvaluationScores

        if self.total == 0:
            return InstanceEvaluationScores()
        p = self.counts / float(self.total)
        split = _conditional_entropy(self.pairs[:, 0], p)
        merge = _conditional_entropy(self.pairs[:, 1], p)
        error, precision, recall = _adapted_rand(self.pairs, self.counts)
        return InstanceEvaluationScores(
            voi=split + merge, voi_split=split, voi_merge=merge, adapted_rand_error=error,
            adapted_rand_precision=precision, adapted_rand_recall=recall,
        )

    def baselines(self) -> dict:
        """``one_segment`` (everything merged) and ``every_voxel`` (each voxel alone) scored
        on this table's gt (its segments are ignored)."""
        from .instance_evaluation_scores import InstanceEvaluationScores

        gt_ids, inverse = np.unique(self.pairs[:, 0], return_inverse=True)
        sizes = np.zeros(len(gt_ids), np.int64)
        np.add.at(sizes, inverse.ravel(), self.counts)
        one_segment = ContingencyTable(np.stack([gt_ids, np.ones_like(gt_ids)], 1), sizes)
        if self.total == 0:
            return {"one_segment": one_segment.scores(), "every_voxel": InstanceEvaluationScores()}
        # every voxel its own segment: H(gt | segment) = 0, H(segment | gt) = sum p_i log2 n_i;
        # no pair of voxels shares a segment (Rand precision 0 / recall 0/0)
        split = float(np.sum(sizes / float(self.total) * np.log2(sizes)))
        labelled = sizes[gt_ids != 0]
        if labelled.size:
            sum_a2 = int(labelled @ labelled - labelled.sum())
            with np.errstate(invalid="ignore", divide="ignore"):
                precision = float(np.float64(0) / np.float64(sum_a2))
                error = float(1.0 - np.float64(0) / np.float64(0.5 * sum_a2))
            recall = _NAN
        else:
            error = precision = recall = _NAN
        every_voxel = InstanceEvaluationScores(
            voi=split, voi_split=split, voi_merge=0.0, adapted_rand_error=error,
            adapted_rand_precision=precision, adapted_rand_recall=recall,
        )
        return {"one_segment": one_segment.scores(), "every_voxel": every_voxel}


def _conditional_entropy(given: np.ndarray, p: np.ndarray) -> float:
    """H(other | given) of the joint probabilities ``p`` of pairs whose ``given`` label is
    ``given``: -sum_g p_g sum xlogx(p / p_g)."""
    ids, inverse = np.unique(given, return_inverse=True)
    inverse = inverse.ravel()
    marginal = np.bincount(inverse, weights=p, minlength=len(ids))
    per_label = np.bincount(inverse, weights=_xlogx(p / marginal[inverse]), minlength=len(ids))
    return float(-(marginal @ per_label)) + 0.0  # (no -0.0)


def _adapted_rand(pairs: np.ndarray, counts: np.ndarray) -> tuple[float, float, float]:
    """``skimage.metrics.adapted_rand_error`` (alpha 0.5, gt 0 ignored) of a table."""
    keep = pairs[:, 0] != 0
    pairs, counts = pairs[keep], counts[keep]
    if not len(counts):
        return _NAN, _NAN, _NAN

    def marginal(column):
        _, inverse = np.unique(pairs[:, column], return_inverse=True)
        return np.bincount(inverse.ravel(), weights=counts).astype(np.int64)

    a, b = marginal(0), marginal(1)
    sum_p_ij2 = np.int64(counts @ counts - counts.sum())
    sum_a2 = np.int64(a @ a - a.sum())
    sum_b2 = np.int64(b @ b - b.sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = sum_p_ij2 / sum_a2
        recall = sum_p_ij2 / sum_b2
        fscore = sum_p_ij2 / (0.5 * sum_a2 + 0.5 * sum_b2)
    return float(1.0 - fscore), float(precision), float(recall)


class BinaryCounts:
    """Per channel: true positives, false positives, false negatives and valid voxels."""

    def __init__(self, channels: Sequence[str], counts: Optional[np.ndarray] = None):
        self.channels = [str(c) for c in channels]
        self.counts = np.zeros((len(self.channels), 4), np.int64) if counts is None else counts

    @classmethod
    def of(cls, channels, tests, truths, valids) -> "BinaryCounts":
        """Counts of bool arrays per channel (``valids``: per channel a bool array or None)."""
        rows = []
        for test, truth, valid in zip(tests, truths, valids):
            test, truth = np.asarray(test, bool), np.asarray(truth, bool)
            if valid is not None:
                test, truth = test & valid, truth & valid
            n = test.size if valid is None else int(np.count_nonzero(valid))
            tp = int(np.count_nonzero(test & truth))
            rows.append([tp, int(np.count_nonzero(test)) - tp, int(np.count_nonzero(truth)) - tp, n])
        return cls(channels, np.array(rows, np.int64).reshape(-1, 4))

    def __add__(self, other: "BinaryCounts") -> "BinaryCounts":
        if other.channels != self.channels:
            raise ValueError(f"channels differ: {self.channels} vs {other.channels}")
        return BinaryCounts(self.channels, self.counts + other.counts)

    def scores(self):
        from .binary_segmentation_evaluation_scores import (
            MultiChannelBinarySegmentationEvaluationScores,
        )
        from .binary_segmentation_evaluator import count_scores

        return MultiChannelBinarySegmentationEvaluationScores(
            [(channel, count_scores(*(int(v) for v in row)))
             for channel, row in zip(self.channels, self.counts)]
        )
