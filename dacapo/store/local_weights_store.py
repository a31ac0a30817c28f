"""Checkpoints as files: ``<path>/<run>/checkpoints/iterations/<iteration>`` (``torch.save``),
written atomically, and ``<path>/<run>/checkpoints/best.json``."""

from __future__ import annotations

import json
import logging
import os
import zipfile
from pathlib import Path
from typing import Any

from dacapo.config import validate_name
from dacapo.utils.checkpoints import load_checkpoint

from ._files import atomic_write, fsync_dir, locked, remove_stale_temps
from .weights_store import DatasetRef, WeightsStore, dataset_name

logger = logging.getLogger(__name__)


def _iteration(iteration: Any) -> int:
    if isinstance(iteration, bool) or int(iteration) != iteration or iteration < 0:
        raise ValueError(f"an iteration is an integer >= 0, got {iteration!r}")
    return int(iteration)


class _WriteErrors:
    """A file's ``write`` that remembers the ``OSError`` it raised: ``torch.save`` turns a failed
    write (disk full) into a cryptic ``RuntimeError`` ("unexpected pos ...")."""

    def __init__(self, file):
        self.file = file
        self.error: OSError | None = None

    def write(self, data) -> int:
        try:
            return self.file.write(data)
        except OSError as exc:
            self.error = exc
            raise

    def flush(self) -> None:
        self.file.flush()


def _save(torch, state: dict, file) -> None:
    writer = _WriteErrors(file)
    try:
        torch.save(state, writer)
    except RuntimeError:
        if writer.error is not None:
            raise writer.error from None
        raise


class LocalWeightsStore(WeightsStore):
    def __init__(self, path: os.PathLike | str):
        self.path = Path(path).expanduser()
        self._warned_missing: set[tuple[str, int]] = set()
        self._swept: set[str] = set()  # runs whose leftover temp checkpoints were removed

    def __repr__(self) -> str:
        return f"LocalWeightsStore({str(self.path)!r})"

    def _checkpoints(self, run_name: str) -> Path:
        return self.path / validate_name(run_name, "run") / "checkpoints"

    def _file(self, run_name: str, iteration: int) -> Path:
        return self._checkpoints(run_name) / "iterations" / str(_iteration(iteration))

    def store_weights(self, run_name: str, iteration: int, state: dict) -> None:
        import torch

        path = self._file(run_name, iteration)
        if run_name not in self._swept:  # temp files of writers killed mid-checkpoint
            for stale in remove_stale_temps(path.parent):
                logger.info("removed %s, left by an interrupted checkpoint write", stale)
            self._swept.add(run_name)
        atomic_write(path, lambda f: _save(torch, state, f), fault="checkpoint")

    def retrieve_weights(self, run_name: str, iteration: int, map_location: Any = "cpu") -> dict:
        path = self._file(run_name, iteration)
        if not path.is_file():
            stored = self.iterations(run_name)
            raise FileNotFoundError(
                f"run {run_name!r} has no checkpoint of iteration {iteration} "
                f"(stored: {stored[-5:] if stored else 'none'}{' ...' if len(stored) > 5 else ''})"
            )
        # mmap: tensors are paged in when used, so taking only the model from a checkpoint
        # does not load its optimizer state (2x the model for Adam) into memory
        return load_checkpoint(path, map_location=map_location, mmap=True)

    def describe(self, run_name: str, iteration: int) -> str:
        return str(self._file(run_name, iteration))

    def iterations(self, run_name: str) -> list[int]:
        """Regular files named by an iteration in canonical form; anything else in the
        directory (temp files, sub-directories, ``0040``, ``40.bak``) is not a checkpoint."""
        directory = self._checkpoints(run_name) / "iterations"
        if not directory.is_dir():
            return []
        return sorted(
            int(p.name) for p in directory.iterdir()
            if p.name.isascii() and p.name.isdigit() and p.name == str(int(p.name)) and p.is_file()
        )

    def is_intact(self, run_name: str, iteration: int) -> bool:
        """``torch.save`` writes a zip archive: check it is complete and every member's CRC."""
        try:
            with zipfile.ZipFile(self._file(run_name, iteration)) as archive:
                return archive.testzip() is None
        except (OSError, zipfile.BadZipFile, EOFError):
            return False

    def remove(self, run_name: str, iteration: int) -> None:
        path = self._file(run_name, iteration)
        try:
            path.unlink()
        except FileNotFoundError:
            return
        fsync_dir(path.parent)

    def store_best(self, run_name: str, iteration: int, dataset: DatasetRef, criterion: str) -> None:
        iteration = _iteration(iteration)
        dataset = validate_name(dataset_name(dataset), "dataset")
        missing = (run_name, iteration)
        if missing not in self._warned_missing and not self._file(run_name, iteration).exists():
            self._warned_missing.add(missing)  # once, not once per dataset and criterion
            logger.warning(
                "run %s: best iteration %d (%s, %s and maybe others) has no stored checkpoint",
                run_name, iteration, dataset, criterion,
            )
        checkpoints = self._checkpoints(run_name)
        with locked(checkpoints / ".best.lock"):
            best = self.retrieve_best_all(run_name)
            best.setdefault(dataset, {})[criterion] = iteration
            atomic_write(
                checkpoints / "best.json", json.dumps(best, indent=2).encode(), fault="best"
            )

    def retrieve_best_all(self, run_name: str) -> dict[str, dict[str, int]]:
        path = self._checkpoints(run_name) / "best.json"
        try:
            best = json.loads(path.read_text())
        except FileNotFoundError:
            return {}
        except (ValueError, UnicodeDecodeError) as error:
            raise ValueError(f"{path} is damaged ({str(error).splitlines()[0]}); {_RECOMPUTE}") from None
        if not _is_best_mapping(best):
            raise ValueError(f"{path} is damaged (not {{dataset: {{criterion: iteration}}}}); {_RECOMPUTE}")
        return best


_RECOMPUTE = "delete it and validate again (dacapo validate, or resume training) to recompute it"


def _is_best_mapping(best: Any) -> bool:
    return isinstance(best, dict) and all(
        isinstance(by, dict)
        and all(isinstance(i, int) and not isinstance(i, bool) for i in by.values())
        for by in best.values()
    )
