"""The array store: where validation predictions, post-processed outputs, validation inputs and
training snapshots are written. It only names locations; writers create the arrays (with voxel
size and offset metadata) through ``funlib.persistence``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Optional

import attrs


@attrs.frozen
class LocalContainerIdentifier:
    container: Path = attrs.field(converter=Path)

    def array_identifier(self, dataset: str) -> "LocalArrayIdentifier":
        return LocalArrayIdentifier(self.container, dataset)


@attrs.frozen
class LocalArrayIdentifier:
    container: Path = attrs.field(converter=Path)
    dataset: str

    @property
    def path(self) -> Path:
        return self.container / self.dataset


class ArrayStore(ABC):
    @abstractmethod
    def validation_prediction_array(
        self, run_name: str, iteration: int, dataset: Any
    ) -> LocalArrayIdentifier: ...

    @abstractmethod
    def validation_output_array(
        self, run_name: str, iteration: int, parameters: Any, dataset: Any
    ) -> LocalArrayIdentifier: ...

    @abstractmethod
    def validation_input_arrays(
        self, run_name: str, index: Optional[Any] = None
    ) -> tuple[LocalArrayIdentifier, LocalArrayIdentifier]:
        """``(raw, gt)`` of validation dataset ``index``."""

    @abstractmethod
    def best_validation_array(
        self, run_name: str, criterion: str, index: Optional[Any] = None
    ) -> LocalArrayIdentifier: ...

    @abstractmethod
    def snapshot_container(self, run_name: str) -> LocalContainerIdentifier: ...

    @abstractmethod
    def validation_container(self, run_name: str) -> LocalContainerIdentifier: ...

    @abstractmethod
    def remove(self, identifier: LocalArrayIdentifier | LocalContainerIdentifier) -> None: ...
