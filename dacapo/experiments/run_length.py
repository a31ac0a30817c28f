"""How long a run trains: its config's ``num_iterations``, unless ``dacapo train --iterations N``
extended (or shortened) it.

Stored configs are immutable (storing a name again with other content is an error), so the new
length is recorded next to the run's checkpoints, in ``<runs_base_dir>/<run>/iterations.json``.
Training, resuming and ``dacapo ls`` read it through ``planned_iterations``; stats, checkpoints
and validation scores are kept: the run simply continues from its latest checkpoint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

FILE_NAME = "iterations.json"


def _file(run_name: str, base_dir: Optional[Path] = None) -> Path:
    from dacapo.options import run_directory

    return run_directory(run_name, base_dir) / FILE_NAME


def planned_iterations(run_name: str, config_iterations: int, base_dir: Optional[Path] = None) -> int:
    """The number of iterations ``run_name`` trains for: the recorded override, else its
    config's ``num_iterations``."""
    path = _file(run_name, base_dir)
    try:
        recorded = json.loads(path.read_text())["num_iterations"]
    except FileNotFoundError:
        return config_iterations
    except (ValueError, KeyError, TypeError):
        raise ValueError(
            f"run {run_name!r}: {path} is not a valid iterations record; delete it to train for "
            f"the config's {config_iterations} iterations"
        ) from None
    return int(recorded)


def set_planned_iterations(run_name: str, iterations: int, trained: int,
                           base_dir: Optional[Path] = None) -> None:
    """Record that ``run_name`` trains for ``iterations`` in all (``trained``: its latest
    checkpoint, which it cannot go below)."""
    from dacapo.store._files import atomic_write

    if isinstance(iterations, bool) or int(iterations) != iterations or iterations < 1:
        raise ValueError(f"run {run_name!r}: --iterations must be a positive integer, got {iterations!r}")
    if iterations < trained:
        raise ValueError(
            f"run {run_name!r}: --iterations {iterations} is below its latest checkpoint "
            f"({trained}); give at least {trained}"
        )
    document = json.dumps({"num_iterations": int(iterations)}).encode()
    atomic_write(_file(run_name, base_dir), document)
