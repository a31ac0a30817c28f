"""Validation finds a better model than the untrained one, records it, and its stored weights
reproduce the stored score."""

import numpy as np
import pytest

from dacapo.experiments import run_state
from dacapo.experiments.run import Run
from dacapo.store.create_store import (
    create_array_store,
    create_config_store,
    create_stats_store,
    create_weights_store,
)
from dacapo.train import train_run
from dacapo.validate import validate, validate_run

from .helpers import small_run_config

pytestmark = pytest.mark.slow


def test_best_beats_iteration_zero_and_reproduces(options, tmp_path):
    config = small_run_config(tmp_path, name="learns", iterations=60, validation_interval=20)
    create_config_store().store_run_config(config)
    weights = create_weights_store()

    run = Run(config)
    weights.store_weights(config.name, 0, run_state.capture(run, 0))
    validate_run(run, 0)
    train_run(run)

    scores = create_stats_store().retrieve_validation_iteration_scores(config.name)
    assert [s.iteration for s in scores] == [0, 20, 40, 60]
    criteria = run.task.evaluator.criteria
    dice = criteria.index("cell__dice")
    best_dice = {s.iteration: max(p[dice] for p in s.scores[0]) for s in scores}
    best_iteration = weights.retrieve_best(config.name, "val", "cell__dice")
    assert best_iteration != 0
    assert best_dice[best_iteration] == max(best_dice.values())
    assert best_dice[best_iteration] > best_dice[0] + 0.05, best_dice
    assert weights.retrieve_best(config.name, "val", "best") == best_iteration

    # only the best iterations keep their validation predictions
    container = create_array_store().validation_container(config.name).container
    kept = {int(p.name) for p in container.iterdir() if p.name.isdigit()}
    best_all = {int(i) for d in weights.retrieve_best_all(config.name).values() for i in d.values()}
    assert kept == best_all

    # re-validating the stored best weights reproduces the stored score
    again = validate(config.name, best_iteration)
    assert np.allclose(
        np.asarray(again.scores, dtype=float),
        np.asarray(next(s for s in scores if s.iteration == best_iteration).scores, dtype=float),
        equal_nan=True,
    )

    # validating an earlier checkpoint again keeps the later scores
    validate(config.name, 20)
    stored = create_stats_store().retrieve_validation_iteration_scores(config.name)
    assert [s.iteration for s in stored] == [0, 20, 40, 60]

    # the scores round-trip into xarray and get_best agrees
    xa = run.validation_scores.to_xarray()
    index, value = run.validation_scores.get_best(xa.sel(criteria="cell__dice").max("parameters"), "iterations")
    assert int(index.values.ravel()[0]) == best_iteration


def test_background_validation(options, tmp_path):
    config = small_run_config(tmp_path, name="background", iterations=6, validation_interval=3)
    create_config_store().store_run_config(config)
    train_run(Run(config), background_validation=True)
    scores = create_stats_store().retrieve_validation_iteration_scores(config.name)
    assert [s.iteration for s in scores] == [3, 6]
    assert create_weights_store().retrieve_best(config.name, "val", "best") in (3, 6)
