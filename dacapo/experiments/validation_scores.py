"""Validation scores of a run: iterations × datasets × post-processing parameters × criteria.

``ValidationScores`` only relies on these duck-typed protocols, so it does not import the task,
evaluator or dataset modules (nor torch)."""

from __future__ import annotations

from bisect import bisect_left, insort
from typing import Any, Hashable, Protocol, Sequence

import attrs

from .validation_iteration_scores import ValidationIterationScores


class ParametersLike(Hashable, Protocol):
    """One point of a post-processor's parameter sweep (e.g. ``PostProcessorParameters``).
    Hashable and comparable: used as coordinate values of the ``parameters`` dimension."""

    id: int
    parameter_names: Sequence[str]  # names of the swept values, e.g. ["threshold"]


class DatasetLike(Hashable, Protocol):
    """A validation dataset; used as coordinate values of the ``datasets`` dimension."""

    name: str


class EvaluationScoresLike(Protocol):
    """The evaluator's scores type: which criteria exist and which way is better."""

    criteria: Sequence[str]

    def higher_is_better(self, criterion: str) -> bool: ...


@attrs.define
class ValidationScores:
    parameters: list[ParametersLike]
    datasets: list[DatasetLike]
    evaluation_scores: EvaluationScoresLike
    scores: list[ValidationIterationScores] = attrs.field(factory=list)

    def __attrs_post_init__(self) -> None:
        self.scores = [self._named(s) for s in self.scores]

    @property
    def dataset_names(self) -> list[str]:
        return [d.name for d in self.datasets]

    @property
    def parameter_dicts(self) -> list[dict[str, Any]]:
        """``{name: value}`` of each parameter setting of the sweep (as the scores name them)."""
        return [parameter_dict(p) for p in self.parameters]

    def _named(self, iteration_scores: ValidationIterationScores) -> ValidationIterationScores:
        """Scores stored before they had names get the names of this run's datasets, sweep and
        criteria if their shape fits (else they stay unnamed and ``to_xarray`` refuses them)."""
        if iteration_scores.named or self.evaluation_scores is None:
            return iteration_scores
        try:
            return iteration_scores.with_names(self.dataset_names, self.parameter_dicts, self.criteria)
        except ValueError:
            return iteration_scores

    def subscores(self, iteration_scores: list[ValidationIterationScores]) -> ValidationScores:
        return ValidationScores(
            self.parameters, self.datasets, self.evaluation_scores, list(iteration_scores)
        )

    def add_iteration_scores(self, iteration_scores: ValidationIterationScores) -> None:
        """Add the scores of a new iteration, keeping ``scores`` ordered by iteration."""
        index = self._index(iteration_scores.iteration)
        if index < len(self.scores) and self.scores[index].iteration == iteration_scores.iteration:
            raise ValueError(f"validation scores of iteration {iteration_scores.iteration} already added")
        insort(self.scores, self._named(iteration_scores), key=lambda s: s.iteration)

    def discard(self, iteration: int) -> None:
        """Forget the scores of ``iteration`` (before validating it again)."""
        self.scores = [s for s in self.scores if s.iteration != iteration]

    def delete_after(self, iteration: int) -> None:
        """Keep only the scores of iterations before ``iteration`` (as the original DaCapo)."""
        self.scores = [s for s in self.scores if s.iteration < iteration]

    def validated_until(self) -> int:
        """The last validated iteration plus one, 0 if none."""
        return max((s.iteration for s in self.scores), default=-1) + 1

    def compare(self, existing_iteration_scores: list[ValidationIterationScores]) -> tuple[bool, int]:
        """Compare with scores stored elsewhere; local scores take priority. Returns whether the
        existing ones must be dropped (they reach beyond the local ones) and the iteration from
        which local scores must be stored."""
        if not self.scores or not existing_iteration_scores:
            return False, 0
        existing = max(s.iteration for s in existing_iteration_scores)
        current = self.validated_until() - 1
        if existing > current:
            return True, current
        return False, existing

    @property
    def criteria(self) -> list[str]:
        return list(self.evaluation_scores.criteria)

    @property
    def parameter_names(self) -> list[str]:
        return list(self.parameters[0].parameter_names) if self.parameters else []

    def to_xarray(self):
        """A DataArray with dims (iterations, datasets, parameters, criteria); the coordinates of
        datasets and parameters are the objects themselves (as in the original DaCapo)."""
        import numpy as np
        import xarray as xr

        shape = (len(self.datasets), len(self.parameters), len(self.criteria))
        data = np.full((len(self.scores), *shape), np.nan)
        for i, iteration_scores in enumerate(self.scores):
            values = np.asarray(iteration_scores.scores, dtype=float)
            if iteration_scores.named:
                values = iteration_scores.aligned(self.dataset_names, self.parameter_dicts,
                                                  self.criteria)
            if values.shape != shape:
                raise ValueError(
                    f"validation scores of iteration {iteration_scores.iteration} have shape "
                    f"{values.shape}, expected (datasets, parameters, criteria) = {shape}"
                )
            data[i] = values
        return xr.DataArray(
            data,
            dims=("iterations", "datasets", "parameters", "criteria"),
            coords={
                "iterations": np.array([s.iteration for s in self.scores], dtype=int),
                "datasets": _objects(self.datasets),
                "parameters": _objects(self.parameters),
                "criteria": list(self.criteria),
            },
        )

    def get_best(self, data, dim: str):
        """The best scores along ``dim`` per criterion (max or min as the criterion wants):
        ``(coordinate of the best along dim, best value)`` as two DataArrays. NaN scores never
        win unless all are NaN."""
        import xarray as xr

        if "criteria" not in data.coords:
            raise ValueError("get_best needs data with a 'criteria' coordinate")
        criteria = data.coords["criteria"]
        if criteria.ndim == 0:
            return self._best(data, dim, criteria.item())
        pairs = [self._best(data.sel(criteria=c), dim, c) for c in criteria.values]
        return (
            xr.concat([index for index, _ in pairs], dim=criteria),
            xr.concat([value for _, value in pairs], dim=criteria),
        )

    def _best(self, data, dim: str, criterion: Any):
        import numpy as np

        criterion = str(criterion)
        higher = self.evaluation_scores.higher_is_better(criterion)
        filled = data.fillna(-np.inf if higher else np.inf)
        index = filled.idxmax(dim, skipna=False) if higher else filled.idxmin(dim, skipna=False)
        value = filled.max(dim) if higher else filled.min(dim)
        return index, value.where(data.notnull().any(dim))

    def _index(self, iteration: int) -> int:
        return bisect_left(self.scores, iteration, key=lambda s: s.iteration)


def parameter_dict(parameters: ParametersLike) -> dict[str, Any]:
    """``{name: value}`` of one parameter setting (its id left out: ids change with the sweep)."""
    return {name: getattr(parameters, name) for name in parameters.parameter_names}


def _objects(items: Sequence[Any]):
    import numpy as np

    array = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        array[i] = item
    return array
