"""The scores of one validated iteration, with the names of what they score.

``scores[dataset][parameter][criterion]`` stays the nested numbers the stores keep; ``datasets``,
``parameters`` (``{name: value}`` of each post-processing setting) and ``criteria`` name the
positions, and ``baselines`` holds reference segmentations' scores (``{dataset: {baseline:
{criterion: value}}}``, e.g. one segment for everything) so that a "merge everything" winner is
visible. Records stored before the names existed have ``None`` names; ``ValidationScores``
fills them from the run it belongs to."""

from __future__ import annotations

import math
from typing import Any, Callable, Iterator, Optional

import attrs


def _scores(value: Any) -> list[list[list[float]]]:
    """Nested sequences (or a numpy array) → lists of Python floats; ``None`` → NaN."""
    try:
        return [[[_float(v) for v in p] for p in d] for d in value]
    except TypeError:
        raise ValueError(
            f"validation scores must be nested [dataset][parameter][criterion] numbers, got {value!r}"
        ) from None


def _float(value: Any) -> float:
    return math.nan if value is None else float(value)


def _names(value: Any) -> Optional[list[str]]:
    return None if value is None else [str(v) for v in value]


def _parameters(value: Any) -> Optional[list[dict[str, Any]]]:
    return None if value is None else [dict(p) for p in value]


def _baselines(value: Any) -> dict[str, dict[str, dict[str, float]]]:
    return {
        str(d): {str(b): {str(c): _float(v) for c, v in s.items()} for b, s in per.items()}
        for d, per in (value or {}).items()
    }


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def parameter_key(parameters: dict[str, Any]) -> tuple:
    """A hashable, order-free key of one parameter setting."""
    return tuple(sorted((k, repr(v)) for k, v in parameters.items()))


def parameter_label(parameters: dict[str, Any]) -> str:
    """``bias=0.3 threshold=0.5`` (``-`` for a sweep without parameters)."""
    return " ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                    for k, v in parameters.items()) or "-"


@attrs.define(eq=False)
class ValidationIterationScores:
    """See the module docstring; the orders are those of ``ValidationScores.datasets``,
    ``.parameters`` and ``.criteria``."""

    iteration: int = attrs.field(converter=int)
    scores: list[list[list[float]]] = attrs.field(converter=_scores)
    datasets: Optional[list[str]] = attrs.field(default=None, converter=_names, kw_only=True)
    parameters: Optional[list[dict[str, Any]]] = attrs.field(
        default=None, converter=_parameters, kw_only=True
    )
    criteria: Optional[list[str]] = attrs.field(default=None, converter=_names, kw_only=True)
    baselines: dict[str, dict[str, dict[str, float]]] = attrs.field(
        factory=dict, converter=_baselines, kw_only=True
    )

    def __attrs_post_init__(self) -> None:
        sizes = (
            ("datasets", self.datasets, len(self.scores)),
            ("parameters", self.parameters, len(self.scores[0]) if self.scores else 0),
            ("criteria", self.criteria,
             len(self.scores[0][0]) if self.scores and self.scores[0] else 0),
        )
        for name, names, size in sizes:
            if names is not None and self.scores and len(names) != size:
                raise ValueError(
                    f"validation scores of iteration {self.iteration}: {len(names)} {name} "
                    f"named but the scores have {size}"
                )

    @property
    def named(self) -> bool:
        return None not in (self.datasets, self.parameters, self.criteria)

    def with_names(self, datasets, parameters, criteria) -> ValidationIterationScores:
        """These scores with the given names where they have none (records stored before the
        names existed)."""
        return attrs.evolve(
            self,
            datasets=self.datasets if self.datasets is not None else datasets,
            parameters=self.parameters if self.parameters is not None else parameters,
            criteria=self.criteria if self.criteria is not None else criteria,
        )

    def rows(self) -> Iterator[dict[str, Any]]:
        """One ``{"dataset", "parameters", "criterion", "score"}`` per score (named scores)."""
        self._require_names()
        for dataset, per_dataset in zip(self.datasets, self.scores):
            for parameters, values in zip(self.parameters, per_dataset):
                for criterion, value in zip(self.criteria, values):
                    yield {"dataset": dataset, "parameters": dict(parameters),
                           "criterion": criterion, "score": value}

    def score(self, dataset: str, criterion: str, **parameters) -> float:
        """The score of ``dataset``/``criterion`` under the post-processing ``parameters``."""
        self._require_names()
        for row in self.rows():
            if (row["dataset"], row["criterion"]) == (dataset, criterion) and (
                row["parameters"] == parameters
            ):
                return row["score"]
        raise KeyError(
            f"no score of dataset {dataset!r}, criterion {criterion!r}, parameters "
            f"{parameter_label(parameters)} at iteration {self.iteration}"
        )

    def aligned(self, datasets: list[str], parameters: list[dict[str, Any]],
                criteria: list[str]):
        """These (named) scores as a ``(datasets, parameters, criteria)`` numpy array in the
        given orders: a setting, dataset or criterion these scores lack is NaN (the run's sweep
        or datasplit changed since they were stored)."""
        import numpy as np

        values = np.asarray(self.scores, dtype=float)
        if (self.datasets, self.parameters, self.criteria) == (datasets, parameters, criteria):
            return values
        self._require_names()
        positions = [
            [names.index(n) if n in names else None for n in wanted]
            for names, wanted in (
                (self.datasets, datasets),
                ([parameter_key(p) for p in self.parameters],
                 [parameter_key(p) for p in parameters]),
                (self.criteria, criteria),
            )
        ]
        aligned = np.full((len(datasets), len(parameters), len(criteria)), np.nan)
        for d, source_d in enumerate(positions[0]):
            for p, source_p in enumerate(positions[1]):
                for c, source_c in enumerate(positions[2]):
                    if None not in (source_d, source_p, source_c):
                        aligned[d, p, c] = values[source_d, source_p, source_c]
        return aligned

    def best(self, dataset: str, criterion: str,
             higher_is_better: bool) -> tuple[Optional[dict[str, Any]], float]:
        """``(parameters, score)`` of the best setting for ``dataset``/``criterion``; NaN
        scores never win (``(None, nan)`` if all are NaN)."""
        best: tuple[Optional[dict[str, Any]], float] = (None, math.nan)
        for row in self.rows():
            if (row["dataset"], row["criterion"]) != (dataset, criterion):
                continue
            value = row["score"]
            if math.isnan(value):
                continue
            if best[0] is None or (value > best[1] if higher_is_better else value < best[1]):
                best = (row["parameters"], value)
        return best

    def format(self, higher_is_better: Optional[Callable[[str], bool]] = None) -> str:
        """A table per dataset: one line per parameter setting and baseline, one column per
        criterion, and with ``higher_is_better`` the best setting per criterion."""
        self._require_names()
        lines = []
        widths = [max(9, len(c)) for c in self.criteria]
        for d, dataset in enumerate(self.datasets):
            baselines = self.baselines.get(dataset, {})
            rows = [(parameter_label(p), values) for p, values in zip(self.parameters, self.scores[d])]
            rows += [(f"baseline {b}", [values.get(c, math.nan) for c in self.criteria])
                     for b, values in baselines.items()]
            label_width = max(len("parameters"), *(len(label) for label, _ in rows))
            lines.append(f"dataset {dataset} (iteration {self.iteration})")
            lines.append("  " + "parameters".ljust(label_width) + "".join(
                f"  {c:>{w}}" for c, w in zip(self.criteria, widths)))
            for label, values in rows:
                lines.append("  " + label.ljust(label_width) + "".join(
                    f"  {v:>{w}.4g}" for v, w in zip(values, widths)))
            if higher_is_better is not None:
                for criterion in self.criteria:
                    parameters, value = self.best(dataset, criterion, higher_is_better(criterion))
                    if parameters is not None:
                        lines.append(f"  best {criterion}: {value:.4g} at "
                                     f"{parameter_label(parameters)}")
        return "\n".join(lines)

    def _require_names(self) -> None:
        if not self.named:
            raise ValueError(
                f"validation scores of iteration {self.iteration} have no names: read them "
                "through ValidationScores (which names them after the run's datasets, sweep and "
                "criteria)"
            )

    def __eq__(self, other: object) -> bool:  # NaN scores (undefined metrics) compare equal
        if not isinstance(other, ValidationIterationScores):
            return NotImplemented
        return (
            self.iteration == other.iteration
            and _nested_equal(self.scores, other.scores)
            and (self.datasets, self.parameters, self.criteria)
            == (other.datasets, other.parameters, other.criteria)
            and _baselines_equal(self.baselines, other.baselines)
        )

    __hash__ = None  # type: ignore[assignment]


def _nested_equal(a: list, b: list) -> bool:
    return len(a) == len(b) and all(
        len(da) == len(db)
        and all(len(pa) == len(pb) and all(map(_same, pa, pb)) for pa, pb in zip(da, db))
        for da, db in zip(a, b)
    )


def _baselines_equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(
        a[d].keys() == b[d].keys()
        and all(a[d][n].keys() == b[d][n].keys()
                and all(_same(a[d][n][c], b[d][n][c]) for c in a[d][n]) for n in a[d])
        for d in a
    )


def stack_scores(scores: list[ValidationIterationScores], datasets: list[str],
                 criteria: list[str]):
    """The scores of several iterations as one ``(iterations, datasets, settings, criteria)``
    numpy array, each placed by name: ``settings`` is the union of the iterations' parameter
    settings (a run whose sweep changed between validations), NaN where an iteration lacks one.
    Unnamed records (stored before scores had names) keep their order, padded with NaN."""
    import numpy as np

    settings: list[dict[str, Any]] = []
    seen: set[tuple] = set()
    for entry in scores:
        for parameters in entry.parameters or []:
            if parameter_key(parameters) not in seen:
                seen.add(parameter_key(parameters))
                settings.append(parameters)
    width = max([len(settings)] + [np.shape(e.scores)[1] for e in scores if not e.named
                                   and np.ndim(e.scores) == 3])
    stacked = np.full((len(scores), len(datasets), width, len(criteria)), np.nan)
    for i, entry in enumerate(scores):
        if entry.named:
            stacked[i, :, :len(settings)] = entry.aligned(datasets, settings, criteria)
            continue
        values = np.asarray(entry.scores, dtype=float)
        if values.ndim == 3:
            d, p, c = (min(a, b) for a, b in zip(values.shape, stacked.shape[1:]))
            stacked[i, :d, :p, :c] = values[:d, :p, :c]
    return stacked

