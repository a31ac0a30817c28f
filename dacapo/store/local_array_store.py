"""Arrays under ``<path>/<run>/validation.zarr`` and ``<path>/<run>/snapshot.zarr``:

- ``validation.zarr/<iteration>/<dataset>/prediction``
- ``validation.zarr/<iteration>/<dataset>/output/<parameters>``
- ``validation.zarr/inputs/<dataset>/raw`` and ``.../gt``
- ``validation.zarr/<dataset>_<criterion>`` (best output per criterion)
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any, Optional

from dacapo.config import validate_name

from .array_store import ArrayStore, LocalArrayIdentifier, LocalContainerIdentifier


def _component(value: Any, what: str) -> str:
    """One path component from a name or an object with a ``name``."""
    name = value if isinstance(value, (str, int)) else getattr(value, "name", value)
    return validate_name(str(name), what)


def _parameters_component(parameters: Any) -> str:
    """Post-processor parameters → a readable, safe directory name: ``str(parameters)`` with
    runs of characters outside ``[A-Za-z0-9_.+=@-]`` (and ``..``) replaced by ``_``."""
    text = re.sub(r"[^A-Za-z0-9_.+=@\-]+|\.\.+", "_", str(parameters))
    text = re.sub(r"^[^A-Za-z0-9]+|_+$", "", text)[:200] or "parameters"
    return validate_name(text, "parameters")


class LocalArrayStore(ArrayStore):
    def __init__(self, path: os.PathLike | str):
        self.path = Path(path).expanduser()

    def __repr__(self) -> str:
        return f"LocalArrayStore({str(self.path)!r})"

    def _run(self, run_name: str) -> Path:
        return self.path / validate_name(run_name, "run")

    def validation_container(self, run_name: str) -> LocalContainerIdentifier:
        return LocalContainerIdentifier(self._run(run_name) / "validation.zarr")

    def snapshot_container(self, run_name: str) -> LocalContainerIdentifier:
        return LocalContainerIdentifier(self._run(run_name) / "snapshot.zarr")

    def validation_prediction_array(
        self, run_name: str, iteration: int, dataset: Any
    ) -> LocalArrayIdentifier:
        container = self.validation_container(run_name).container
        dataset = _component(dataset, "dataset")
        return LocalArrayIdentifier(container, f"{int(iteration)}/{dataset}/prediction")

    def validation_output_array(
        self, run_name: str, iteration: int, parameters: Any, dataset: Any
    ) -> LocalArrayIdentifier:
        container = self.validation_container(run_name).container
        dataset, parameters = _component(dataset, "dataset"), _parameters_component(parameters)
        return LocalArrayIdentifier(container, f"{int(iteration)}/{dataset}/output/{parameters}")

    def validation_input_arrays(
        self, run_name: str, index: Optional[Any] = None
    ) -> tuple[LocalArrayIdentifier, LocalArrayIdentifier]:
        container = self.validation_container(run_name).container
        prefix = "inputs" if index is None else f"inputs/{_component(index, 'dataset')}"
        return (
            LocalArrayIdentifier(container, f"{prefix}/raw"),
            LocalArrayIdentifier(container, f"{prefix}/gt"),
        )

    def best_validation_array(
        self, run_name: str, criterion: str, index: Optional[Any] = None
    ) -> LocalArrayIdentifier:
        container = self.validation_container(run_name).container
        name = validate_name(criterion, "criterion")
        if index is not None:
            name = f"{_component(index, 'dataset')}_{name}"
        return LocalArrayIdentifier(container, name)

    def remove(self, identifier: LocalArrayIdentifier | LocalContainerIdentifier) -> None:
        """Delete an array (or a whole container) of this store; no error if absent."""
        path = Path(os.path.abspath(getattr(identifier, "path", identifier.container)))
        if Path(os.path.abspath(self.path)) not in path.parents:
            raise ValueError(f"{path} is not inside this array store ({self.path})")
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
