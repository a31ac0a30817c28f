from __future__ import annotations

import math
from typing import Any

import attrs


def _scores(value: Any) -> list[list[list[float]]]:
    """Nested sequences (or a numpy array) → lists of Python floats; ``None`` → NaN."""
    try:
        return [[[math.nan if v is None else float(v) for v in p] for p in d] for d in value]
    except TypeError:
        raise ValueError(
            f"validation scores must be nested [dataset][parameter][criterion] numbers, got {value!r}"
        ) from None


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


@attrs.define(eq=False)
class ValidationIterationScores:
    """The scores of one validated iteration, nested ``scores[dataset][parameter][criterion]``
    (the orders of ``ValidationScores.datasets``, ``.parameters`` and ``.criteria``)."""

    iteration: int = attrs.field(converter=int)
    scores: list[list[list[float]]] = attrs.field(converter=_scores)

    def __eq__(self, other: object) -> bool:  # NaN scores (undefined metrics) compare equal
        if not isinstance(other, ValidationIterationScores):
            return NotImplemented
        return self.iteration == other.iteration and _nested_equal(self.scores, other.scores)

    __hash__ = None  # type: ignore[assignment]


def _nested_equal(a: list, b: list) -> bool:
    return len(a) == len(b) and all(
        len(da) == len(db)
        and all(len(pa) == len(pb) and all(map(_same, pa, pb)) for pa, pb in zip(da, db))
        for da, db in zip(a, b)
    )
