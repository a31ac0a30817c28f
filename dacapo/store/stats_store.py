"""The stats store: training stats and validation scores per run, appended as training goes.

Backends store one record per iteration. The helpers below decide what a store call must write
so that every backend behaves the same: append only what is new, and replace everything when
the caller's stats diverge from the stored ones (a resumed run that rolled back to a checkpoint).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from bisect import bisect_left
from typing import Optional, Sequence

import attrs

from dacapo.experiments.training_iteration_stats import TrainingIterationStats
from dacapo.experiments.training_stats import TrainingStats
from dacapo.experiments.validation_iteration_scores import ValidationIterationScores
from dacapo.experiments.validation_scores import ValidationScores


class StatsStore(ABC):
    @abstractmethod
    def store_training_stats(self, run_name: str, stats: TrainingStats) -> None:
        """Make the stored training stats of ``run_name`` equal ``stats``; O(new iterations)."""

    @abstractmethod
    def retrieve_training_stats(self, run_name: str) -> TrainingStats: ...

    @abstractmethod
    def delete_training_stats(self, run_name: str) -> None: ...

    @abstractmethod
    def store_validation_iteration_scores(self, run_name: str, scores: ValidationScores) -> None:
        """Store the iterations of ``scores`` not stored yet (and replace stored ones that
        differ). If ``scores`` ends before the stored scores do (a rollback), the stored scores
        are replaced by ``scores``: callers validating a single iteration must first add it to
        the retrieved scores."""

    @abstractmethod
    def retrieve_validation_iteration_scores(
        self, run_name: str
    ) -> list[ValidationIterationScores]:
        """Ordered by iteration."""

    @abstractmethod
    def delete_validation_scores(self, run_name: str) -> None: ...


# --- records (JSON/BSON friendly dicts) --------------------------------------------------------
def training_record(stats: TrainingIterationStats) -> dict:
    return {k: v for k, v in attrs.asdict(stats).items() if v is not None}


def training_from_record(record: dict) -> TrainingIterationStats:
    fields = attrs.fields_dict(TrainingIterationStats)
    return TrainingIterationStats(**{k: v for k, v in record.items() if k in fields})


_VALIDATION_NAMES = ("datasets", "parameters", "criteria", "baselines")


def validation_record(scores: ValidationIterationScores) -> dict:
    """``iteration`` and nested ``scores`` (as records stored before names existed) plus the
    names and baselines when known."""
    record = {"iteration": scores.iteration, "scores": scores.scores}
    for name in _VALIDATION_NAMES:
        value = getattr(scores, name)
        if value:
            record[name] = value
    return record


def validation_from_record(record: dict) -> ValidationIterationScores:
    """Reads the records of both formats (older ones have no names: ``ValidationScores`` names
    them after the run)."""
    return ValidationIterationScores(
        record["iteration"], record["scores"],
        **{name: record[name] for name in _VALIDATION_NAMES if name in record},
    )


def same_record(a: dict, b: dict) -> bool:
    """Equality that treats NaN as equal to NaN."""
    return a == b or json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


# --- what to write ----------------------------------------------------------------------------
def training_update(
    stats: TrainingStats, stored_last: Optional[dict]
) -> Optional[list[TrainingIterationStats]]:
    """The stats to append after the last stored record, or ``None`` when the stored stats must
    be replaced by ``stats``. O(log n): only the last stored record is compared."""
    items = stats.iteration_stats
    if stored_last is None:
        return items
    index = bisect_left(items, stored_last["iteration"], key=lambda s: s.iteration)
    if index == len(items) or not same_record(training_record(items[index]), stored_last):
        return None
    return items[index + 1 :]


def validation_update(
    scores: Sequence[ValidationIterationScores], stored: dict[int, dict]
) -> tuple[bool, list[ValidationIterationScores]]:
    """``(replace, records)``: append ``records``, or replace everything stored by them."""
    given = {s.iteration: s for s in scores}
    if stored and max(given, default=-1) < max(stored):
        return True, sorted(given.values(), key=lambda s: s.iteration)
    changed = any(
        i in stored and not same_record(validation_record(s), stored[i]) for i, s in given.items()
    )
    if changed:
        merged = {i: validation_from_record(r) for i, r in stored.items()}
        merged.update(given)
        return True, [merged[i] for i in sorted(merged)]
    return False, [s for s in scores if s.iteration not in stored]
