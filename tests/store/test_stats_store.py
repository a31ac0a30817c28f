"""Stats store behaviour, the same for every backend (files, mongo). File-only details (bytes
written, torn lines) are in test_file_stats_store.py, Mongo-only ones in test_mongo_store.py."""

import math

import numpy as np
import pytest

from dacapo.config import ConfigError
from dacapo.experiments import (
    TrainingIterationStats,
    TrainingStats,
    ValidationIterationScores,
    ValidationScores,
)

from .backends import backend  # noqa: F401 (fixture)
from .helpers import DATASETS, PARAMETERS, Scores, training_stats


@pytest.fixture
def store(backend):
    return backend.stats_store()


def validation_scores(iterations, value=None):
    scores = ValidationScores(PARAMETERS, DATASETS, Scores())
    rng = np.random.default_rng(1)
    for iteration in iterations:
        data = rng.random((2, 3, 2)) if value is None else np.full((2, 3, 2), value)
        data[0, 0, 0] = np.nan
        scores.add_iteration_scores(ValidationIterationScores(iteration, data))
    return scores


def test_training_stats_round_trip(backend, store):
    stats = training_stats(5)
    stats.add_iteration_stats(
        TrainingIterationStats(5, float("nan"), 0.1, learning_rate=1e-3, data_time=0.01)
    )
    store.store_training_stats("run", stats)
    retrieved = backend.stats_store().retrieve_training_stats("run")
    assert retrieved.iteration_stats[:5] == stats.iteration_stats[:5]
    last = retrieved.iteration_stats[5]
    assert math.isnan(last.loss) and (last.learning_rate, last.data_time) == (1e-3, 0.01)
    assert store.retrieve_training_stats("other") == TrainingStats()


def test_appending_writes_only_the_new_iterations(backend, store):
    stats = training_stats(100)
    store.store_training_stats("run", stats)
    counter = backend.counter()
    stats.add_iteration_stats(TrainingIterationStats(100, 0.5, 0.25))
    store.store_training_stats("run", stats)
    assert (counter.records_written, counter.rewrites, counter.reads) == (1, 0, 0)
    store.store_training_stats("run", stats)  # nothing new: nothing written
    assert (counter.records_written, counter.rewrites, counter.reads) == (1, 0, 0)
    assert backend.stats_store().retrieve_training_stats("run") == stats


def test_a_new_store_reads_once(backend, store):
    stats = training_stats(10)
    store.store_training_stats("run", stats)
    fresh = backend.stats_store()
    counter = backend.counter()
    for i in range(10, 15):
        stats.add_iteration_stats(TrainingIterationStats(i, 0.1, 0.1))
        fresh.store_training_stats("run", stats)
    assert (counter.reads, counter.rewrites, counter.records_written) == (1, 0, 5)
    assert fresh.retrieve_training_stats("run") == stats


def test_a_change_behind_the_stores_back_is_noticed(backend, store):
    stats = training_stats(3)
    store.store_training_stats("run", stats)
    other = backend.stats_store()
    stats.add_iteration_stats(TrainingIterationStats(3, 0.1, 0.1))
    other.store_training_stats("run", stats)
    stats.add_iteration_stats(TrainingIterationStats(4, 0.1, 0.1))
    store.store_training_stats("run", stats)  # must not append iteration 3 again
    retrieved = backend.stats_store().retrieve_training_stats("run")
    assert retrieved == stats and len(retrieved.iteration_stats) == 5


def test_a_rollback_behind_the_stores_back_is_noticed(backend, store):
    stats = training_stats(10)
    store.store_training_stats("run", stats)
    other = backend.stats_store()
    theirs = training_stats(6)
    for i in range(6, 9):
        theirs.add_iteration_stats(TrainingIterationStats(i, 7.0, 0.1))
    other.store_training_stats("run", theirs)  # rolled back to 6, retrained to 8
    for i in range(10, 12):
        stats.add_iteration_stats(TrainingIterationStats(i, 0.1, 0.1))
    store.store_training_stats("run", stats)  # the caller's stats win, whole
    assert backend.stats_store().retrieve_training_stats("run") == stats


def test_rollback(backend, store):
    stats = training_stats(10)
    store.store_training_stats("run", stats)
    stats.delete_after(6)
    counter = backend.counter()
    store.store_training_stats("run", stats)
    assert counter.rewrites >= 1
    assert backend.stats_store().retrieve_training_stats("run") == stats
    assert store.retrieve_training_stats("run") == stats


def test_retrained_past_the_stored_end_rewrites(backend, store):
    """Stored up to 9, resumed from 6 and trained to 12 without storing in between."""
    stats = training_stats(10)
    store.store_training_stats("run", stats)
    stats.delete_after(6)
    for i in range(6, 13):
        stats.add_iteration_stats(TrainingIterationStats(i, 42.0, 0.1))
    store.store_training_stats("run", stats)
    assert backend.stats_store().retrieve_training_stats("run") == stats


def test_storing_empty_stats_clears(backend, store):
    store.store_training_stats("run", training_stats(3))
    store.store_training_stats("run", TrainingStats())
    assert backend.stats_store().retrieve_training_stats("run") == TrainingStats()


def test_runs_are_independent(backend, store):
    store.store_training_stats("a", training_stats(3))
    store.store_training_stats("b", training_stats(5))
    store.store_training_stats("a", TrainingStats())
    fresh = backend.stats_store()
    assert fresh.retrieve_training_stats("a") == TrainingStats()
    assert fresh.retrieve_training_stats("b") == training_stats(5)


def test_validation_scores_round_trip_and_append(backend, store):
    scores = validation_scores([10, 20])
    store.store_validation_iteration_scores("run", scores)
    counter = backend.counter()
    scores.add_iteration_scores(ValidationIterationScores(30, np.ones((2, 3, 2))))
    store.store_validation_iteration_scores("run", scores)
    assert (counter.records_written, counter.rewrites, counter.reads) == (1, 0, 0)
    store.store_validation_iteration_scores("run", scores)  # NaNs do not look like changes
    assert (counter.records_written, counter.rewrites, counter.reads) == (1, 0, 0)
    assert backend.stats_store().retrieve_validation_iteration_scores("run") == scores.scores


def test_validating_an_earlier_iteration_later_appends_it(backend, store):
    scores = validation_scores([10, 30])
    store.store_validation_iteration_scores("run", scores)
    scores.add_iteration_scores(ValidationIterationScores(20, np.zeros((2, 3, 2))))
    store.store_validation_iteration_scores("run", scores)
    retrieved = backend.stats_store().retrieve_validation_iteration_scores("run")
    assert [s.iteration for s in retrieved] == [10, 20, 30]
    assert retrieved == scores.scores


def test_validation_rollback_and_changed_scores(backend, store):
    store.store_validation_iteration_scores("run", validation_scores([10, 20, 30]))
    rolled_back = validation_scores([10, 20])
    store.store_validation_iteration_scores("run", rolled_back)
    assert store.retrieve_validation_iteration_scores("run") == rolled_back.scores
    changed = validation_scores([10, 20], value=0.5)
    store.store_validation_iteration_scores("run", changed)
    assert backend.stats_store().retrieve_validation_iteration_scores("run") == changed.scores


def test_delete(backend, store):
    store.store_training_stats("run", training_stats(3))
    store.store_validation_iteration_scores("run", validation_scores([10]))
    store.delete_training_stats("run")
    assert store.retrieve_training_stats("run") == TrainingStats()
    assert len(store.retrieve_validation_iteration_scores("run")) == 1
    store.delete_validation_scores("run")
    assert store.retrieve_validation_iteration_scores("run") == []
    store.delete_training_stats("run")  # deleting nothing is fine
    store.store_training_stats("run", training_stats(2))  # and storing again works
    assert store.retrieve_training_stats("run").trained_until() == 2
    assert backend.stats_store().retrieve_training_stats("run") == training_stats(2)


@pytest.mark.parametrize("name", ["../x", "a/b", "/abs", ""])
def test_invalid_run_names(store, name):
    with pytest.raises(ConfigError):
        store.store_training_stats(name, training_stats(1))
    with pytest.raises(ConfigError):
        store.retrieve_validation_iteration_scores(name)


def test_retrieve_then_store_does_not_read_again(backend, store):
    store.store_validation_iteration_scores("run", validation_scores([10]))
    store.store_training_stats("run", training_stats(2))
    fresh = backend.stats_store()
    scores = validation_scores([])
    scores.scores = fresh.retrieve_validation_iteration_scores("run")
    stats = fresh.retrieve_training_stats("run")
    counter = backend.counter()
    scores.add_iteration_scores(ValidationIterationScores(20, np.ones((2, 3, 2))))
    stats.add_iteration_stats(TrainingIterationStats(2, 0.1, 0.1))
    fresh.store_validation_iteration_scores("run", scores)
    fresh.store_training_stats("run", stats)
    assert (counter.reads, counter.rewrites, counter.records_written) == (0, 0, 2)
    assert backend.stats_store().retrieve_validation_iteration_scores("run") == scores.scores
    assert backend.stats_store().retrieve_training_stats("run") == stats
