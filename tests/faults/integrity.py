"""Checks that a run's stored state is whole: every checkpoint readable, the stats file made of
complete records (at most one torn last line), iterations continuous."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Optional

import numpy as np

from dacapo.store._files import TEMP_PREFIX
from dacapo.store.file_stats_store import TRAINING, FileStatsStore
from dacapo.store.local_weights_store import LocalWeightsStore


def stats_records(runs_dir: Path, run_name: str, file_name: str = TRAINING) -> list[dict]:
    """The complete records of a stats file; asserts that only the last line may be torn."""
    path = Path(runs_dir) / "stats" / run_name / file_name
    if not path.exists():
        return []
    data = path.read_bytes()
    lines = data.split(b"\n")
    torn = lines.pop()  # b"" when the file ends with a newline
    records = [json.loads(line) for line in lines]  # every complete line parses
    # a torn last line (even one whose JSON happens to be complete, when a kill strikes right
    # before its newline) is ignored by the store and cut off before its next append
    del torn
    return records


def check_run(runs_dir: Path, run_name: str, interval: int,
              reference_losses: Optional[list[float]] = None) -> int:
    """Assert the stored state of a (possibly killed) run is whole and agrees with an
    uninterrupted run's losses; returns the latest checkpoint's iteration (0 if none)."""
    weights = LocalWeightsStore(runs_dir)
    iterations = weights.iterations(run_name)
    latest = iterations[-1] if iterations else 0
    assert iterations == list(range(interval, latest + 1, interval)), iterations
    for iteration in iterations:
        assert weights.is_intact(run_name, iteration), f"checkpoint {iteration} is damaged"
    if iterations:
        state = weights.retrieve_weights(run_name, latest)
        assert state["model"] and all(np.isfinite(v.numpy()).all() for v in state["model"].values())

    records = stats_records(runs_dir, run_name)
    stats = FileStatsStore(Path(runs_dir) / "stats").retrieve_training_stats(run_name)
    losses = [s.loss for s in stats.iteration_stats]
    assert [s.iteration for s in stats.iteration_stats] == list(range(len(losses)))
    assert len(records) == len(losses)
    assert len(losses) >= latest, f"stats end at {len(losses)}, checkpoint {latest}"
    assert all(np.isfinite(losses))
    if reference_losses is not None:
        assert losses == reference_losses[: len(losses)], "the loss history differs"
    return latest


def temp_files(directory: Path) -> list[Path]:
    return sorted(Path(directory).rglob(f"{TEMP_PREFIX}*"))


def file_digests(*roots: Path, skip: tuple = (".blockwise",)) -> dict:
    """``{path: sha1}`` of every file under ``roots`` (not under a directory named in ``skip``)."""
    digests = {}
    for root in roots:
        for path in sorted(Path(root).rglob("*")):
            if path.is_file() and not set(skip) & set(path.relative_to(root).parts):
                digests[str(path)] = hashlib.sha1(path.read_bytes()).hexdigest()
    return digests


def array_digest(path: Path) -> str:
    """sha1 of an array's values, dtype and shape."""
    from funlib.persistence import open_ds

    values = np.ascontiguousarray(open_ds(str(path))[:])
    return hashlib.sha1(str((values.dtype, values.shape)).encode() + values.tobytes()).hexdigest()
