"""The weights store: a checkpoint per stored iteration (model, optimizer, scheduler and RNG
states: whatever dict the trainer passes) and the best iteration per (dataset, criterion)."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Any, Optional, Union

logger = logging.getLogger(__name__)

DatasetRef = Union[str, Any]  # a dataset name, or an object with a ``name``


def dataset_name(dataset: DatasetRef) -> str:
    return dataset if isinstance(dataset, str) else dataset.name


class WeightsStore(ABC):
    @abstractmethod
    def store_weights(self, run_name: str, iteration: int, state: dict) -> None: ...

    @abstractmethod
    def retrieve_weights(
        self, run_name: str, iteration: int, map_location: Any = "cpu"
    ) -> dict: ...

    @abstractmethod
    def iterations(self, run_name: str) -> list[int]:
        """The stored iterations, ascending."""

    @abstractmethod
    def remove(self, run_name: str, iteration: int) -> None:
        """Remove a checkpoint (no error if absent)."""

    @abstractmethod
    def store_best(
        self, run_name: str, iteration: int, dataset: DatasetRef, criterion: str
    ) -> None: ...

    @abstractmethod
    def retrieve_best_all(self, run_name: str) -> dict[str, dict[str, int]]:
        """``{dataset: {criterion: iteration}}``."""

    def is_intact(self, run_name: str, iteration: int) -> bool:
        """Whether the checkpoint can be read back (more expensive than listing)."""
        return True

    def describe(self, run_name: str, iteration: int) -> str:
        """Where the checkpoint is, for messages."""
        return f"run {run_name!r} checkpoint {iteration}"

    def retrieve_latest_verified(self, run_name: str, map_location: Any = "cpu") -> Optional[dict]:
        """The newest checkpoint that reads back whole, ``None`` if there is none; a damaged one
        is passed over with a warning naming it (a checkpoint refused as unsafe is an error)."""
        from dacapo.utils.checkpoints import DamagedCheckpoint

        for iteration in reversed(self.iterations(run_name)):
            if not self.is_intact(run_name, iteration):
                logger.warning("%s is damaged (incomplete or corrupt); skipping it",
                               self.describe(run_name, iteration))
                continue
            try:
                return self.retrieve_weights(run_name, iteration, map_location)
            except DamagedCheckpoint as error:
                logger.warning("%s; skipping it", error)
        return None

    def latest_iteration(self, run_name: str, verify: bool = False) -> Optional[int]:
        """The last stored iteration, ``None`` if none. With ``verify``, the last one that
        ``is_intact``."""
        for iteration in reversed(self.iterations(run_name)):
            if not verify or self.is_intact(run_name, iteration):
                return iteration
        return None

    def retrieve_best(
        self, run_name: str, dataset: Optional[DatasetRef], criterion: str
    ) -> Optional[int]:
        """The best iteration for ``(dataset, criterion)``, ``None`` if none was recorded.
        ``dataset=None`` means whichever validation dataset recorded ``criterion``; it is an
        error if several did with different iterations."""
        best = self.retrieve_best_all(run_name)
        if dataset is not None:
            return best.get(dataset_name(dataset), {}).get(criterion)
        found = {name: by[criterion] for name, by in best.items() if criterion in by}
        if len(set(found.values())) > 1:
            raise ValueError(
                f"run {run_name!r}: the best iteration by {criterion!r} differs between validation "
                f"datasets ({', '.join(f'{n}: {i}' for n, i in sorted(found.items()))}); name one"
            )
        return next(iter(found.values()), None)

    def prune(self, run_name: str, keep_last: int) -> list[int]:
        """Remove the checkpoints other than the last ``keep_last`` and the best ones; returns
        the removed iterations."""
        if keep_last < 0:
            raise ValueError(f"keep_last must be >= 0, got {keep_last}")
        iterations = self.iterations(run_name)
        keep = set(iterations[len(iterations) - keep_last :]) if keep_last else set()
        keep |= {i for by in self.retrieve_best_all(run_name).values() for i in by.values()}
        removed = [i for i in iterations if i not in keep]
        for iteration in removed:
            self.remove(run_name, iteration)
        return removed

    # --- dacapo-ml 0.3.5's loaders -------------------------------------------------------------
    def load_weights(self, run: Any, iteration: int) -> None:
        """Load checkpoint ``iteration`` of ``run`` into its model and optimizer."""
        state = self.retrieve_weights(run.name, iteration)
        run.model.load_state_dict(state["model"])
        run.optimizer.load_state_dict(state["optimizer"])

    def load_best(self, run: Any, dataset: Optional[DatasetRef], criterion: str) -> None:
        """Load the best checkpoint of ``run`` by ``criterion`` on ``dataset``."""
        iteration = self.retrieve_best(run.name, dataset, criterion)
        if iteration is None:
            where = dataset_name(dataset) if dataset is not None else "any dataset"
            raise ValueError(
                f"run {run.name!r}: no best iteration by {criterion!r} on {where} is recorded; "
                "validate the run first"
            )
        self.load_weights(run, iteration)


from dacapo.compat import removed_names  # noqa: E402

__getattr__ = removed_names(__name__)  # the names of dacapo-ml 0.3.5 that are gone
