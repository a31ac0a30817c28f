"""The store primitives under injected faults, in process: a failed atomic write leaves the old
file and no temp file; a failed stats append leaves the stored records; temp files of killed
writers are removed, those being written are not."""

from __future__ import annotations

import errno

import pytest

from dacapo.experiments.training_iteration_stats import TrainingIterationStats
from dacapo.experiments.training_stats import TrainingStats
from dacapo.store._files import _temp, atomic_write, remove_stale_temps
from dacapo.store.file_stats_store import FileStatsStore
from dacapo.store.local_weights_store import LocalWeightsStore
from dacapo.utils import faults

from .integrity import temp_files


@pytest.mark.parametrize("action, code", [("enospc", errno.ENOSPC), ("erofs", errno.EROFS), ("eio", errno.EIO)])
@pytest.mark.parametrize("point", ["best.write", "best.written"])
def test_failed_atomic_write_keeps_the_old_file(tmp_path, monkeypatch, tally, action, code, point):
    path = tmp_path / "best.json"
    atomic_write(path, b"old")
    monkeypatch.setenv(faults.ENV, f"{point}:{action}")
    with pytest.raises(OSError) as error:
        atomic_write(path, b"new", fault="best")
    tally.fault(f"store:{point}:{action}")
    assert error.value.errno == code and str(path) in str(error.value)
    assert path.read_bytes() == b"old"
    assert temp_files(tmp_path) == []
    tally.checked("old file intact after a failed write")


def test_failed_stats_append_keeps_the_records(tmp_path, monkeypatch, tally):
    store = FileStatsStore(tmp_path)
    stats = TrainingStats()
    for i in range(4):
        stats.add_iteration_stats(TrainingIterationStats(iteration=i, loss=float(i), time=0.1))
        if i == 1:
            store.store_training_stats("run", stats)
    monkeypatch.setenv(faults.ENV, "stats.append:enospc")
    with pytest.raises(OSError, match="training_stats.jsonl.*No space left on device"):
        store.store_training_stats("run", stats)
    tally.fault("store:stats.append:enospc")
    assert [s.iteration for s in FileStatsStore(tmp_path).retrieve_training_stats("run").iteration_stats] == [0, 1]
    monkeypatch.delenv(faults.ENV)
    store.store_training_stats("run", stats)  # the same store instance goes on
    assert [s.iteration for s in FileStatsStore(tmp_path).retrieve_training_stats("run").iteration_stats] == [0, 1, 2, 3]
    tally.checked("stats intact after a failed append")


def test_stale_temps_are_removed_live_ones_kept(tmp_path, tally):
    iterations = tmp_path / "run" / "checkpoints" / "iterations"
    iterations.mkdir(parents=True)
    stale = iterations / ".tmp-0123456789abcdef"
    stale.write_bytes(b"half a checkpoint")  # a killed writer's: no lock held
    fresh_empty = iterations / ".tmp-fedcba9876543210"
    fresh_empty.touch()  # maybe a writer that has not locked it yet
    with _temp(iterations, b"being written") as live:
        assert remove_stale_temps(iterations) == [stale]
        assert live.exists() and fresh_empty.exists()
    LocalWeightsStore(tmp_path).store_weights("run", 1, {"model": {}})
    assert sorted(p.name for p in iterations.iterdir()) == [".tmp-fedcba9876543210", "1"]
    tally.checked("stale temp files removed")


def test_fault_rules(monkeypatch):
    faults.fault_point("x")  # unset: nothing happens
    monkeypatch.setenv(faults.ENV, "x:enospc@2")
    faults.fault_point("x")  # the first hit passes
    with pytest.raises(OSError, match="No space left"):
        faults.fault_point("x")
    faults.fault_point("x")  # once only
    monkeypatch.setenv(faults.ENV, "x:explode")
    with pytest.raises(ValueError, match="unknown action"):
        faults.fault_point("x")
