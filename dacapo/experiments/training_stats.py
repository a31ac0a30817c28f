from __future__ import annotations

from bisect import bisect_left

import attrs

from .training_iteration_stats import TrainingIterationStats


@attrs.define
class TrainingStats:
    """Per-iteration training stats, ordered by strictly increasing iteration."""

    iteration_stats: list[TrainingIterationStats] = attrs.field(factory=list)

    def add_iteration_stats(self, iteration_stats: TrainingIterationStats) -> None:
        if self.iteration_stats and iteration_stats.iteration <= self.iteration_stats[-1].iteration:
            raise ValueError(
                f"training stats of iteration {iteration_stats.iteration} added after those of "
                f"iteration {self.iteration_stats[-1].iteration}"
            )
        self.iteration_stats.append(iteration_stats)

    def delete_after(self, iteration: int) -> None:
        """Keep only the stats of iterations before ``iteration`` (as the original DaCapo)."""
        del self.iteration_stats[self._index(iteration):]

    def trained_until(self) -> int:
        """The number of iterations trained: the last iteration plus one, 0 if none."""
        return self.iteration_stats[-1].iteration + 1 if self.iteration_stats else 0

    def to_xarray(self, field: str = "loss"):
        import numpy as np
        import xarray as xr

        values = [getattr(stats, field) for stats in self.iteration_stats]
        return xr.DataArray(
            np.array([np.nan if v is None else v for v in values], dtype=float),
            dims=("iterations",),
            coords={"iterations": np.array([s.iteration for s in self.iteration_stats], dtype=int)},
            name=field,
        )

    def _index(self, iteration: int) -> int:
        return bisect_left(self.iteration_stats, iteration, key=lambda stats: stats.iteration)
