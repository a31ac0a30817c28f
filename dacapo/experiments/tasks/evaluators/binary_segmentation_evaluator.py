"""Binary segmentation metrics per channel: overlap, rates, Hausdorff and mean false distances
(in nm), with tolerance and clipping distances from the task."""

from __future__ import annotations

import math
from typing import Optional, Sequence

import numpy as np

from .._distances import distance_to_zero
from .binary_segmentation_evaluation_scores import (
    BinarySegmentationEvaluationScores,
    MultiChannelBinarySegmentationEvaluationScores,
)
from .evaluator import Evaluator
from .statistics import BinaryCounts

_NAN = float("nan")


class BinarySegmentationEvaluator(Evaluator):
    """Evaluates binary outputs (``(C, *spatial)``, non-zero = foreground) against binary gt of
    the same shape, channel by channel; scores are named ``<channel>__<criterion>``.

    Args:
        clip_distance: false distances are clipped to it (nm) in the ``*_clipped`` criteria.
        tol_distance: voxels within this distance (nm) of the other set count as matched in the
            ``*_with_tolerance`` criteria.
        channels: the channel names, in the order of the channel axis.
        num_threads: threads per distance transform.
    """

    def __init__(
        self,
        clip_distance: float,
        tol_distance: float,
        channels: Sequence[str],
        num_threads: int = 1,
    ):
        self.clip_distance = float(clip_distance)
        self.tol_distance = float(tol_distance)
        self.channels = [str(c) for c in channels]
        self.num_threads = int(num_threads)

    @property
    def score(self) -> MultiChannelBinarySegmentationEvaluationScores:
        return MultiChannelBinarySegmentationEvaluationScores(
            [(channel, BinarySegmentationEvaluationScores()) for channel in self.channels]
        )

    def bounds(self, criterion: str):
        lower, upper = super().bounds(criterion)
        if criterion.endswith("_clipped"):
            upper = self.clip_distance
        return lower, upper

    def evaluate(
        self,
        output,
        gt,
        voxel_size=None,
        channels: Optional[Sequence[str]] = None,
        mask=None,
    ) -> MultiChannelBinarySegmentationEvaluationScores:
        """Scores of ``output`` against ``gt``.

        ``output``, ``gt``: numpy arrays ``(C, *spatial)`` (or ``(*spatial)`` for one channel),
        or ``funlib.persistence.Array``s (then their common ROI is read and ``voxel_size``
        defaults to theirs). ``voxel_size``: nm per voxel along the spatial axes.
        ``channels``: names of the channels (default: the task's). ``mask``: optional, non-zero
        where the gt is valid (``(*spatial)`` or per channel); other voxels are ignored."""
        output, gt, mask, voxel_size = _read(output, gt, mask, voxel_size)
        channels, parts = self._channel_parts(output, gt, mask, voxel_size, channels)
        return MultiChannelBinarySegmentationEvaluationScores(
            [
                (
                    channel,
                    binary_segmentation_scores(
                        test, truth, voxel_size,
                        tol_distance=self.tol_distance,
                        clip_distance=self.clip_distance,
                        valid=valid,
                        num_threads=self.num_threads,
                    ),
                )
                for channel, (test, truth, valid) in zip(channels, parts)
            ]
        )

    streams = True

    def statistics(self, output, gt, voxel_size=None, mask=None) -> BinaryCounts:
        output, gt, mask, voxel_size = _read(output, gt, mask, voxel_size)
        channels, parts = self._channel_parts(output, gt, mask, voxel_size, None)
        return BinaryCounts.of(channels, *zip(*parts))

    def _binary_gt(self, gt, mask, voxel_size):
        """``(gt, mask)`` as binary channels (subclasses convert other gt here)."""
        return gt, mask

    def _channel_parts(self, output, gt, mask, voxel_size, channels):
        """The channel names and per channel ``(output != 0, gt != 0, valid or None)``."""
        gt, mask = self._binary_gt(gt, mask, voxel_size)
        channels = self.channels if channels is None else [str(c) for c in channels]
        dims = len(voxel_size)
        output = _channels_first(output, dims, len(channels), "output")
        gt = _channels_first(gt, dims, len(channels), "gt")
        if output.shape != gt.shape:
            raise ValueError(f"output shape {output.shape} differs from gt shape {gt.shape}")
        if mask is not None:
            mask = np.asarray(mask)
            if mask.ndim == dims:
                mask = mask[np.newaxis]
            if mask.shape[1:] != gt.shape[1:] or mask.shape[0] not in (1, gt.shape[0]):
                raise ValueError(f"mask shape {mask.shape} does not match gt shape {gt.shape}")
        parts = []
        for c in range(len(channels)):
            valid = None if mask is None else mask[c if mask.shape[0] > 1 else 0] != 0
            parts.append((output[c] != 0, gt[c] != 0, valid))
        return channels, parts


def _read(output, gt, mask, voxel_size):
    """numpy data of ``output``/``gt``/``mask`` (funlib Arrays are read on their common ROI)."""
    arrays = [a for a in (output, gt, mask) if a is not None and hasattr(a, "roi")]
    if not arrays:
        if voxel_size is None:
            raise ValueError("voxel_size is needed to evaluate numpy arrays")
        return np.asarray(output), np.asarray(gt), mask, tuple(voxel_size)
    roi = arrays[0].roi
    for a in arrays[1:]:
        if tuple(a.voxel_size) != tuple(arrays[0].voxel_size):
            raise ValueError(
                f"voxel sizes differ: {tuple(a.voxel_size)} vs {tuple(arrays[0].voxel_size)}"
            )
        roi = roi.intersect(a.roi)
    if voxel_size is None:
        voxel_size = tuple(arrays[0].voxel_size)

    def data(a):
        return None if a is None else (np.asarray(a[roi]) if hasattr(a, "roi") else np.asarray(a))

    return data(output), data(gt), data(mask), tuple(voxel_size)


def _channels_first(array: np.ndarray, dims: int, num_channels: int, what: str) -> np.ndarray:
    if array.ndim == dims and num_channels == 1:
        array = array[np.newaxis]
    if array.ndim != dims + 1 or array.shape[0] != num_channels:
        raise ValueError(
            f"{what} of shape {array.shape} does not match {num_channels} channel(s) and "
            f"{dims} spatial dimensions"
        )
    return array


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else _NAN


def _harmonic(p: float, r: float) -> float:
    if p == 0 or r == 0:
        return 0.0
    if math.isnan(p) or math.isnan(r):
        return _NAN
    return 2 * p * r / (p + r)


def _mean(values: np.ndarray) -> float:
    # mean over an empty set of distances: 0 (no voxel is off); inf propagates
    return float(np.mean(values, dtype=np.float64)) if values.size else 0.0


def binary_segmentation_scores(
    test: np.ndarray,
    truth: np.ndarray,
    voxel_size,
    tol_distance: float,
    clip_distance: float,
    valid: Optional[np.ndarray] = None,
    num_threads: int = 1,
) -> BinarySegmentationEvaluationScores:
    """Scores of the bool array ``test`` (prediction) against the bool array ``truth``.

    Distances (nm, between voxel centres) are computed with ``edt``: for every predicted voxel
    the distance to the nearest gt voxel (0 on true positives) and for every gt voxel the
    distance to the nearest predicted voxel. If the two sets are identical (also both empty)
    every criterion is perfect. Otherwise a ratio with a zero denominator is NaN, a mean over
    an empty set is 0 and a distance to an empty set is inf (so the Hausdorff distance is inf
    when exactly one set is empty). With ``valid``, only valid voxels are counted."""
    test = np.asarray(test, dtype=bool)
    truth = np.asarray(truth, dtype=bool)
    if test.shape != truth.shape:
        raise ValueError(f"shapes differ: {test.shape} vs {truth.shape}")
    if valid is not None:
        valid = np.asarray(valid, dtype=bool)
        test = test & valid
        truth = truth & valid
        n = int(np.count_nonzero(valid))
    else:
        n = test.size

    s = int(np.count_nonzero(test))
    t = int(np.count_nonzero(truth))
    tp = int(np.count_nonzero(test & truth))
    fp = s - tp
    fn = t - tp
    negatives = n - t
    if fp == 0 and fn == 0:  # identical sets (including both empty): perfect
        return count_scores(tp, fp, fn, n)

    # distance of each predicted voxel to the gt, and of each gt voxel to the prediction
    if t:
        to_truth = distance_to_zero(~truth, voxel_size, parallel=num_threads)[test]
    else:
        to_truth = np.full(s, np.inf, dtype=np.float32)
    if s:
        to_test = distance_to_zero(~test, voxel_size, parallel=num_threads)[truth]
    else:
        to_test = np.full(t, np.inf, dtype=np.float32)

    fp_tol = int(np.count_nonzero(to_truth > tol_distance))
    fn_tol = int(np.count_nonzero(to_test > tol_distance))

    mean_fp = _mean(to_truth)
    mean_fn = _mean(to_test)
    mean_fp_clipped = _mean(np.minimum(to_truth, clip_distance))
    mean_fn_clipped = _mean(np.minimum(to_test, clip_distance))
    hausdorff = max(
        float(to_truth.max()) if to_truth.size else 0.0,
        float(to_test.max()) if to_test.size else 0.0,
    )

    precision_tol = _ratio(s - fp_tol, s)
    recall_tol = _ratio(t - fn_tol, t)
    return count_scores(
        tp, fp, fn, n,
        hausdorff=hausdorff,
        false_negative_rate_with_tolerance=_ratio(fn_tol, t),
        false_positive_rate_with_tolerance=_ratio(fp_tol, negatives),
        mean_false_distance=0.5 * (mean_fp + mean_fn),
        mean_false_negative_distance=mean_fn,
        mean_false_positive_distance=mean_fp,
        mean_false_distance_clipped=0.5 * (mean_fp_clipped + mean_fn_clipped),
        mean_false_negative_distance_clipped=mean_fn_clipped,
        mean_false_positive_distance_clipped=mean_fp_clipped,
        precision_with_tolerance=precision_tol,
        recall_with_tolerance=recall_tol,
        f1_score_with_tolerance=_harmonic(precision_tol, recall_tol),
    )


def count_scores(tp: int, fp: int, fn: int, n: int, **distance_scores) -> BinarySegmentationEvaluationScores:
    """The criteria that follow from the counts of true/false positives, false negatives and
    valid voxels ``n``; the distance criteria are ``distance_scores`` (NaN where not given, as
    when streaming). Identical sets (``fp == fn == 0``): every criterion is perfect."""
    if fp == 0 and fn == 0:
        perfect = {
            c: (1.0 if BinarySegmentationEvaluationScores.higher_is_better(c) else 0.0)
            for c in BinarySegmentationEvaluationScores.criteria
        }
        return BinarySegmentationEvaluationScores(**perfect)
    s, t = tp + fp, tp + fn
    return BinarySegmentationEvaluationScores(
        dice=2 * tp / (s + t),
        jaccard=tp / (s + t - tp),
        false_negative_rate=_ratio(fn, t),
        false_positive_rate=_ratio(fp, n - t),
        false_discovery_rate=_ratio(fp, s),
        precision=_ratio(tp, s),
        recall=_ratio(tp, t),
        f1_score=2 * tp / (s + t),
        **distance_scores,
    )


from dacapo.compat import removed_names  # noqa: E402

__getattr__ = removed_names(__name__)  # the names of dacapo-ml 0.3.5 that are gone
