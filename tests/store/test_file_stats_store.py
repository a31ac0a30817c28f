"""File-only details of the stats store: bytes appended, torn and damaged lines, atomic rewrites.
The behaviour shared with the other backends is tested in test_stats_store.py."""

import json
import os

import numpy as np
import pytest

from dacapo.experiments import (
    TrainingIterationStats,
    TrainingStats,
    ValidationIterationScores,
    ValidationScores,
)
from dacapo.store import file_stats_store
from dacapo.store.create_store import create_stats_store
from dacapo.store.file_stats_store import FileStatsStore

from .helpers import DATASETS, PARAMETERS, Scores, training_stats


@pytest.fixture
def store(tmp_path):
    return FileStatsStore(tmp_path / "stats")


def path_of(store, run="run", name="training_stats.jsonl"):
    return store.path / run / name


class WriteCounter:
    """Counts what the store writes: bytes through os.write, files through os.replace, reads."""

    def __init__(self, monkeypatch):
        self.bytes = self.replaces = self.reads = 0
        write, replace, read = os.write, os.replace, file_stats_store._read

        def counting_write(fd, data):
            self.bytes += len(data)
            return write(fd, data)

        def counting_replace(*args, **kwargs):
            self.replaces += 1
            return replace(*args, **kwargs)

        def counting_read(*args, **kwargs):
            self.reads += 1
            return read(*args, **kwargs)

        monkeypatch.setattr(os, "write", counting_write)
        monkeypatch.setattr(os, "replace", counting_replace)
        monkeypatch.setattr(file_stats_store, "_read", counting_read)


def test_appending_an_iteration_only_writes_that_iteration(store, monkeypatch):
    stats = training_stats(100)
    store.store_training_stats("run", stats)
    path = path_of(store)
    before, inode = path.read_bytes(), os.stat(path).st_ino

    counter = WriteCounter(monkeypatch)
    stats.add_iteration_stats(TrainingIterationStats(100, 0.5, 0.25))
    store.store_training_stats("run", stats)
    line = json.dumps({"iteration": 100, "loss": 0.5, "time": 0.25}, separators=(",", ":")) + "\n"
    assert counter.bytes == len(line)
    assert counter.replaces == 0 and counter.reads == 0
    after = path.read_bytes()
    assert after == before + line.encode() and os.stat(path).st_ino == inode

    store.store_training_stats("run", stats)  # nothing new: nothing written
    assert counter.bytes == len(line) and counter.reads == 0


# the last: a kill right before the newline (found by tests/faults) leaves complete JSON, still torn
@pytest.mark.parametrize("tail", [b'{"iteration": 3, "lo', b"\x00\x00\x00\x00", b'{"iteration": 3\n',
                                  b'{"iteration":3,"loss":0.7,"time":0.2}'])
def test_torn_last_line_is_ignored_then_cut_off(store, tail):
    stats = training_stats(3)
    store.store_training_stats("run", stats)
    with open(path_of(store), "ab") as f:  # a crash in the middle of an append
        f.write(tail)
    assert FileStatsStore(store.path).retrieve_training_stats("run") == stats
    stats.add_iteration_stats(TrainingIterationStats(3, 0.1, 0.1))
    FileStatsStore(store.path).store_training_stats("run", stats)
    lines = path_of(store).read_bytes().split(b"\n")
    assert lines[-1] == b"" and all(json.loads(line) for line in lines[:-1])
    assert FileStatsStore(store.path).retrieve_training_stats("run") == stats


def test_a_damaged_record_inside_is_skipped_and_repaired(store, caplog):
    stats = training_stats(3)
    store.store_training_stats("run", stats)
    lines = path_of(store).read_bytes().split(b"\n")
    lines[1] = b"garbage"
    path_of(store).write_bytes(b"\n".join(lines))
    fresh = FileStatsStore(store.path)
    retrieved = fresh.retrieve_training_stats("run")
    assert [s.iteration for s in retrieved.iteration_stats] == [0, 2]
    assert "damaged record" in caplog.text
    fresh.store_training_stats("run", stats)  # rewrites: the caller's stats are complete
    assert FileStatsStore(store.path).retrieve_training_stats("run") == stats


def test_rollback_rewrites_atomically(store, monkeypatch):
    stats = training_stats(10)
    store.store_training_stats("run", stats)
    stats.delete_after(6)
    counter = WriteCounter(monkeypatch)
    store.store_training_stats("run", stats)
    assert counter.replaces == 1
    assert FileStatsStore(store.path).retrieve_training_stats("run") == stats
    assert [p.name for p in path_of(store).parent.iterdir()] == ["training_stats.jsonl"]


def validation_scores(iterations, value=None):
    scores = ValidationScores(PARAMETERS, DATASETS, Scores())
    rng = np.random.default_rng(1)
    for iteration in iterations:
        data = rng.random((2, 3, 2)) if value is None else np.full((2, 3, 2), value)
        data[0, 0, 0] = np.nan
        scores.add_iteration_scores(ValidationIterationScores(iteration, data))
    return scores


def test_validation_scores_round_trip_and_append(store, monkeypatch):
    scores = validation_scores([10, 20])
    store.store_validation_iteration_scores("run", scores)
    path = path_of(store, name="validation_scores.jsonl")
    before = path.read_bytes()
    counter = WriteCounter(monkeypatch)
    scores.add_iteration_scores(ValidationIterationScores(30, np.ones((2, 3, 2))))
    store.store_validation_iteration_scores("run", scores)
    assert counter.replaces == 0 and counter.reads == 0
    assert path.read_bytes().startswith(before) and len(path.read_bytes().splitlines()) == 3
    store.store_validation_iteration_scores("run", scores)  # NaNs do not look like changes
    assert counter.replaces == 0 and len(path.read_bytes().splitlines()) == 3
    assert FileStatsStore(store.path).retrieve_validation_iteration_scores("run") == scores.scores


def test_torn_validation_line(store):
    scores = validation_scores([10])
    store.store_validation_iteration_scores("run", scores)
    with open(path_of(store, name="validation_scores.jsonl"), "ab") as f:
        f.write(b'{"iteration": 20, "scores": [[[0.1')
    assert FileStatsStore(store.path).retrieve_validation_iteration_scores("run") == scores.scores
    scores.add_iteration_scores(ValidationIterationScores(20, np.ones((2, 3, 2))))
    FileStatsStore(store.path).store_validation_iteration_scores("run", scores)
    assert FileStatsStore(store.path).retrieve_validation_iteration_scores("run") == scores.scores


def test_delete_removes_the_run_directory(store):
    store.store_training_stats("run", training_stats(3))
    store.store_validation_iteration_scores("run", validation_scores([10]))
    store.delete_training_stats("run")
    assert store.retrieve_training_stats("run") == TrainingStats()
    assert len(store.retrieve_validation_iteration_scores("run")) == 1
    store.delete_validation_scores("run")
    assert store.retrieve_validation_iteration_scores("run") == []
    assert not (store.path / "run").exists()
    store.delete_training_stats("run")  # deleting nothing is fine
    store.store_training_stats("run", training_stats(2))  # and storing again works
    assert store.retrieve_training_stats("run").trained_until() == 2


def test_create_stats_store_is_shared_per_directory(options):
    store = create_stats_store()
    assert isinstance(store, FileStatsStore) and store.path == options.runs_base_dir / "stats"
    assert create_stats_store() is store
