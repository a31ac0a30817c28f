"""Base of evaluation scores: named criteria, each knowing whether higher is better."""

from __future__ import annotations

import math
from typing import ClassVar, Optional


def is_better(score_1: float, score_2: Optional[float], higher_is_better: bool) -> bool:
    """Whether ``score_1`` is strictly better than ``score_2``. NaN (undefined) and None (no
    score yet) are worse than any number; a NaN is never better than anything."""
    if score_1 is None or _isnan(score_1):
        return False
    if score_2 is None or _isnan(score_2):
        return True
    return score_1 > score_2 if higher_is_better else score_1 < score_2


def _isnan(value) -> bool:
    try:
        return math.isnan(value)
    except TypeError:
        return False


class EvaluationScores:
    """Scores of one evaluation. ``criteria`` lists the score names; each is an attribute
    (and ``scores[criterion]``). Values are floats: ``nan`` where a score is undefined
    (e.g. precision of an empty prediction), ``inf`` where a distance is infinite."""

    criteria: list[str] = []

    # per-criterion properties of a fixed set of criteria (a subclass with dynamic criteria
    # overrides the methods below instead)
    _higher_is_better: ClassVar[frozenset] = frozenset()
    _store_best: ClassVar[frozenset] = frozenset()
    _unbounded: ClassVar[frozenset] = frozenset()  # bounds (0, None); the others (0, 1)

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
        """(lower, upper) bound of the criterion; None where unbounded."""
        return (0.0, None) if cls._check(criterion) in cls._unbounded else (0.0, 1.0)

    @classmethod
    def store_best(cls, criterion: str) -> bool:
        """Whether the weights that are best by this criterion are worth keeping."""
        return cls._check(criterion) in cls._store_best

    @classmethod
    def from_dict(cls, scores: dict):
        return cls(**{c: scores[c] for c in cls.criteria if c in scores})

    @classmethod
    def compare(cls, score_1: float, score_2: Optional[float], criterion: str) -> bool:
        """Whether ``score_1`` is strictly better than ``score_2`` for ``criterion`` (NaN-aware,
        see ``is_better``)."""
        return is_better(score_1, score_2, cls.higher_is_better(criterion))

    def __getitem__(self, criterion: str) -> float:
        if criterion not in self.criteria:
            raise KeyError(criterion)
        return getattr(self, criterion)

    def to_dict(self) -> dict[str, float]:
        """``{criterion: value}`` in the order of ``criteria``."""
        return {criterion: float(getattr(self, criterion)) for criterion in self.criteria}
