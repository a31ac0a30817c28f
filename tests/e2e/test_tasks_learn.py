"""The one-hot task learns what it claims, on generated cells with a tiny UNet: its own validation
criterion improves over iteration 0. A run started from another run's best checkpoint begins
with that run's validation score."""

import attrs
import pytest

from dacapo.experiments import run_state
from dacapo.experiments.run import Run
from dacapo.experiments.starts import StartConfig
from dacapo.experiments.tasks import OneHotTaskConfig
from dacapo.store.create_store import (
    create_config_store,
    create_stats_store,
    create_weights_store,
)
from dacapo.train import train_run
from dacapo.validate import validate_run

from .helpers import small_run_config

pytestmark = pytest.mark.slow


def _train(config):
    """Store the config, validate iteration 0 explicitly, train (validating on the way)."""
    create_config_store().store_run_config(config)
    run = Run(config)
    create_weights_store().store_weights(config.name, 0, run_state.capture(run, 0))
    validate_run(run, 0)
    train_run(run)
    return run


def _best_per_iteration(run_name, criteria, criterion, higher):
    c = criteria.index(criterion)
    scores = create_stats_store().retrieve_validation_iteration_scores(run_name)
    pick = max if higher else min
    return {s.iteration: pick(p[c] for p in s.scores[0]) for s in scores}


def test_one_hot_learns_and_start_resumes_score(options, tmp_path):
    base = small_run_config(tmp_path, name="onehot", iterations=40, validation_interval=20)
    config = attrs.evolve(
        base, task_config=OneHotTaskConfig(name="cells_one_hot", classes=["background", "cell"])
    )
    run = _train(config)
    evaluator = run.task.evaluator
    dice = _best_per_iteration(config.name, evaluator.criteria, "cell__dice", True)
    assert sorted(dice) == [0, 20, 40]
    assert max(dice[20], dice[40]) > dice[0] + 0.05, dice

    # a new run started from the best checkpoint scores as that checkpoint did
    weights = create_weights_store()
    criterion = evaluator.criteria[0]
    best = weights.retrieve_best(config.name, "val", criterion)
    source = _best_per_iteration(config.name, evaluator.criteria, criterion, True)[best]
    started = attrs.evolve(config, name="onehot_started", start_config=StartConfig(config.name, "best"))
    create_config_store().store_run_config(started)
    new = Run(started)
    new.initialize_from_start()
    validate_run(new, 0)
    again = _best_per_iteration(started.name, evaluator.criteria, criterion, True)[0]
    assert again == pytest.approx(source, abs=1e-6)
