"""Scores of instance segmentations."""

from __future__ import annotations

from typing import ClassVar

import attrs

from .evaluation_scores import EvaluationScores

_NAN = float("nan")


def _score(help_text: str):
    return attrs.field(default=_NAN, converter=float, metadata={"help_text": help_text})


@attrs.frozen
class InstanceEvaluationScores(EvaluationScores):
    """Variation of information (bits) and adapted Rand error of a segmentation against gt
    instances (background 0 counts as one segment in the VOI; the Rand scores ignore gt
    background, as ``skimage.metrics.adapted_rand_error``)."""

    voi: float = _score("voi_split + voi_merge (lower is better).")
    voi_split: float = _score("H(segmentation | gt): over-segmentation (lower is better).")
    voi_merge: float = _score("H(gt | segmentation): under-segmentation (lower is better).")
    adapted_rand_error: float = _score("1 - adapted Rand F-score (lower is better).")
    adapted_rand_precision: float = _score("Adapted Rand precision (higher is better).")
    adapted_rand_recall: float = _score("Adapted Rand recall (higher is better).")

    criteria: ClassVar[list[str]] = [
        "voi", "voi_split", "voi_merge", "adapted_rand_error", "adapted_rand_precision",
        "adapted_rand_recall",
    ]
    _higher_is_better: ClassVar[frozenset] = frozenset(
        {"adapted_rand_precision", "adapted_rand_recall"}
    )
    _store_best: ClassVar[frozenset] = frozenset({"voi", "adapted_rand_error"})
    _unbounded: ClassVar[frozenset] = frozenset({"voi", "voi_split", "voi_merge"})
