"""Scores of instance segmentations."""

from __future__ import annotations

from typing import ClassVar, Optional

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

    @classmethod
    def _check(cls, criterion: str) -> str:
        if criterion not in cls.criteria:
            raise ValueError(f"unknown criterion {criterion!r}; known: {', '.join(cls.criteria)}")
        return criterion

    @classmethod
    def higher_is_better(cls, criterion: str) -> bool:
        return cls._check(criterion) in cls._higher_is_better

    @classmethod
    def bounds(cls, criterion: str) -> tuple[Optional[float], Optional[float]]:
        if cls._check(criterion).startswith("voi"):
            return (0.0, None)
        return (0.0, 1.0)

    @classmethod
    def store_best(cls, criterion: str) -> bool:
        return cls._check(criterion) in cls._store_best

    @classmethod
    def from_dict(cls, scores: dict) -> "InstanceEvaluationScores":
        return cls(**{c: scores[c] for c in cls.criteria if c in scores})
