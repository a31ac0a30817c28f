"""Base of evaluation scores: named criteria, each knowing whether higher is better."""

from __future__ import annotations

import math
from typing import Optional


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

    @staticmethod
    def higher_is_better(criterion: str) -> bool:
        raise NotImplementedError

    @staticmethod
    def bounds(criterion: str) -> tuple[Optional[float], Optional[float]]:
        """(lower, upper) bound of the criterion; None where unbounded."""
        raise NotImplementedError

    @staticmethod
    def store_best(criterion: str) -> bool:
        """Whether the weights that are best by this criterion are worth keeping."""
        raise NotImplementedError

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
