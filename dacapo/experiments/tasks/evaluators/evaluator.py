"""Base of the evaluators."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Optional

from .evaluation_scores import EvaluationScores, is_better


class Evaluator(ABC):
    """Scores post-processed outputs against gt; knows its criteria and their direction.

    Also keeps, optionally, the best score seen per (dataset, parameters, criterion) in
    ``best_scores`` (``{key: (iteration, score)}``) for callers tracking best iterations."""

    @abstractmethod
    def evaluate(self, output, gt, *args, **kwargs) -> EvaluationScores:
        """Scores of ``output`` against ``gt``."""

    def baselines(self, gt, voxel_size=None, mask=None) -> dict[str, EvaluationScores]:
        """Scores of reference outputs that need no model, by name (none by default): they show
        when a sweep's winner is no better than a trivial answer."""
        statistics = self.baseline_statistics(gt, voxel_size, mask)
        return {} if statistics is None else self.baselines_of(statistics)

    # --- streaming: volumes scored part by part ------------------------------------------------
    #: whether ``statistics`` is implemented
    streams: bool = False

    def statistics(self, output, gt, voxel_size=None, mask=None):
        """Sufficient statistics of one part of a volume: parts add up (``+``) and
        ``.scores()`` of the sum equals ``evaluate`` of the whole, for the criteria that stream
        (the others are NaN). None: this evaluator cannot stream."""
        return None

    def baseline_statistics(self, gt, voxel_size=None, mask=None):
        """Sufficient statistics of one part of the gt for ``baselines_of`` (None: no baselines)."""
        return None

    def baselines_of(self, statistics) -> dict[str, EvaluationScores]:
        return {}

    @property
    @abstractmethod
    def score(self) -> EvaluationScores:
        """Empty (all-NaN) scores: the criteria and their properties without an evaluation."""

    @property
    def criteria(self) -> list[str]:
        return list(self.score.criteria)

    def higher_is_better(self, criterion: str) -> bool:
        return self.score.higher_is_better(criterion)

    def bounds(self, criterion: str) -> tuple[Optional[float], Optional[float]]:
        return self.score.bounds(criterion)

    def store_best(self, criterion: str) -> bool:
        return self.score.store_best(criterion)

    def compare(self, score_1: float, score_2: Optional[float], criterion: str) -> bool:
        """Whether ``score_1`` is strictly better than ``score_2`` (NaN and None are worst)."""
        return is_better(score_1, score_2, self.higher_is_better(criterion))

    # --- best-score bookkeeping ----------------------------------------------------------------
    @property
    def best_scores(self) -> dict:
        if not hasattr(self, "_best_scores"):
            self._best_scores = {}
        return self._best_scores

    def is_best(self, dataset: Any, parameter: Any, criterion: str, score) -> bool:
        """Whether ``score`` (an ``EvaluationScores`` or a float) beats the recorded best for
        (dataset, parameter, criterion). False for criteria whose best is not stored."""
        if not self.store_best(criterion):
            return False
        value = getattr(score, criterion) if isinstance(score, EvaluationScores) else score
        previous = self.best_scores.get((dataset, parameter, criterion))
        return self.compare(value, None if previous is None else previous[1], criterion)

    def set_best(self, dataset: Any, parameter: Any, criterion: str, iteration: int, value: float):
        self.best_scores[(dataset, parameter, criterion)] = (iteration, value)
