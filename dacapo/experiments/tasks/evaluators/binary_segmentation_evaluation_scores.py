"""Scores of binary segmentations, per channel and for several channels at once."""

from __future__ import annotations

from typing import ClassVar, Optional

import attrs

from .evaluation_scores import EvaluationScores

_NAN = float("nan")


def _score(help_text: str):
    return attrs.field(default=_NAN, converter=float, metadata={"help_text": help_text})


@attrs.frozen
class BinarySegmentationEvaluationScores(EvaluationScores):
    """Voxel-wise and distance-based scores of a binary prediction against a binary gt.

    Distances are Euclidean, in world units (nm), between voxel centres. ``tol`` and ``clip`` are
    the task's ``tol_distance`` and ``clip_distance``. When prediction and gt are identical
    (including both empty) every criterion has its perfect value. Otherwise a ratio with a zero
    denominator is NaN (e.g. precision of an empty prediction); the mean distances over an
    empty set are 0, and distances to an empty set are infinite."""

    dice: float = _score("2 TP / (2 TP + FP + FN).")
    jaccard: float = _score("TP / (TP + FP + FN).")
    hausdorff: float = _score(
        "Hausdorff distance (nm) between prediction and gt voxels (inf if exactly one is empty)."
    )
    false_negative_rate: float = _score("FN / (TP + FN): fraction of gt voxels missed.")
    false_negative_rate_with_tolerance: float = _score(
        "Fraction of gt voxels farther than tol from any predicted voxel."
    )
    false_positive_rate: float = _score("FP / (FP + TN): fraction of gt background predicted.")
    false_discovery_rate: float = _score("FP / (TP + FP): fraction of predicted voxels wrong.")
    false_positive_rate_with_tolerance: float = _score(
        "Predicted voxels farther than tol from any gt voxel, over the gt background voxels."
    )
    mean_false_distance: float = _score(
        "Mean of mean_false_positive_distance and mean_false_negative_distance."
    )
    mean_false_negative_distance: float = _score(
        "Mean over gt voxels of the distance to the nearest predicted voxel (0 on TPs)."
    )
    mean_false_positive_distance: float = _score(
        "Mean over predicted voxels of the distance to the nearest gt voxel (0 on TPs)."
    )
    mean_false_distance_clipped: float = _score(
        "mean_false_distance with each distance clipped to clip."
    )
    mean_false_negative_distance_clipped: float = _score(
        "mean_false_negative_distance with each distance clipped to clip."
    )
    mean_false_positive_distance_clipped: float = _score(
        "mean_false_positive_distance with each distance clipped to clip."
    )
    precision_with_tolerance: float = _score(
        "Fraction of predicted voxels within tol of a gt voxel."
    )
    recall_with_tolerance: float = _score("Fraction of gt voxels within tol of a predicted voxel.")
    f1_score_with_tolerance: float = _score(
        "Harmonic mean of precision_with_tolerance and recall_with_tolerance."
    )
    precision: float = _score("TP / (TP + FP).")
    recall: float = _score("TP / (TP + FN).")
    f1_score: float = _score("Harmonic mean of precision and recall (equals dice).")

    criteria: ClassVar[list[str]] = [
        "dice",
        "jaccard",
        "hausdorff",
        "false_negative_rate",
        "false_negative_rate_with_tolerance",
        "false_positive_rate",
        "false_discovery_rate",
        "false_positive_rate_with_tolerance",
        "mean_false_distance",
        "mean_false_negative_distance",
        "mean_false_positive_distance",
        "mean_false_distance_clipped",
        "mean_false_negative_distance_clipped",
        "mean_false_positive_distance_clipped",
        "precision_with_tolerance",
        "recall_with_tolerance",
        "f1_score_with_tolerance",
        "precision",
        "recall",
        "f1_score",
    ]
    _higher_is_better: ClassVar[frozenset] = frozenset(
        {
            "dice",
            "jaccard",
            "precision_with_tolerance",
            "recall_with_tolerance",
            "f1_score_with_tolerance",
            "precision",
            "recall",
            "f1_score",
        }
    )
    _unbounded: ClassVar[frozenset] = frozenset(  # distances
        {"hausdorff"} | {c for c in criteria if "distance" in c}
    )
    # Criteria weighing both kinds of error: their best weights are worth keeping. One-sided
    # criteria (precision, recall, rates, one-sided distances) are optimised by degenerate
    # outputs (e.g. an empty prediction has no false positives).
    _store_best: ClassVar[frozenset] = frozenset(
        {
            "dice",
            "jaccard",
            "hausdorff",
            "mean_false_distance",
            "mean_false_distance_clipped",
            "f1_score_with_tolerance",
            "f1_score",
        }
    )


SEPARATOR = "__"


def split_criterion(criterion: str) -> tuple[Optional[str], str]:
    """``"mito__dice"`` -> ``("mito", "dice")``; ``"dice"`` -> ``(None, "dice")``."""
    if SEPARATOR in criterion:
        channel, base = criterion.rsplit(SEPARATOR, 1)
        return channel, base
    return None, criterion


@attrs.frozen
class MultiChannelBinarySegmentationEvaluationScores(EvaluationScores):
    """Binary scores per channel; criteria are named ``<channel>__<criterion>`` and are
    attributes too (``scores.mito__dice``)."""

    channel_scores: list = attrs.field(converter=lambda v: [(str(c), s) for c, s in v])

    @property
    def channels(self) -> list[str]:
        return [channel for channel, _ in self.channel_scores]

    @property
    def criteria(self) -> list[str]:
        return [
            f"{channel}{SEPARATOR}{criterion}"
            for channel, _ in self.channel_scores
            for criterion in BinarySegmentationEvaluationScores.criteria
        ]

    def channel(self, name: str) -> BinarySegmentationEvaluationScores:
        for channel, scores in self.channel_scores:
            if channel == name:
                return scores
        raise KeyError(name)

    def __getattr__(self, name: str):
        if name.startswith("__") or SEPARATOR not in name:
            raise AttributeError(name)
        try:
            channel_scores = object.__getattribute__(self, "channel_scores")
        except AttributeError:
            raise AttributeError(name) from None
        channel, criterion = split_criterion(name)
        for c, scores in channel_scores:
            if c == channel and criterion in BinarySegmentationEvaluationScores.criteria:
                return getattr(scores, criterion)
        raise AttributeError(f"{type(self).__name__} has no criterion {name!r}")

    @staticmethod
    def higher_is_better(criterion: str) -> bool:
        return BinarySegmentationEvaluationScores.higher_is_better(split_criterion(criterion)[1])

    @staticmethod
    def bounds(criterion: str) -> tuple[Optional[float], Optional[float]]:
        return BinarySegmentationEvaluationScores.bounds(split_criterion(criterion)[1])

    @staticmethod
    def store_best(criterion: str) -> bool:
        return BinarySegmentationEvaluationScores.store_best(split_criterion(criterion)[1])

    @classmethod
    def from_dict(cls, scores: dict) -> "MultiChannelBinarySegmentationEvaluationScores":
        """Inverse of ``to_dict``."""
        per_channel: dict[str, dict] = {}
        for key, value in scores.items():
            channel, criterion = split_criterion(key)
            if channel is None:
                raise ValueError(f"criterion {key!r} names no channel")
            per_channel.setdefault(channel, {})[criterion] = value
        return cls(
            [(c, BinarySegmentationEvaluationScores.from_dict(s)) for c, s in per_channel.items()]
        )
