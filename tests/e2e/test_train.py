import numpy as np
import pytest

from dacapo.experiments.run import Run
from dacapo.store.create_store import (
    create_config_store,
    create_stats_store,
    create_weights_store,
)
from dacapo.train import train_run

from .helpers import small_run_config

pytestmark = pytest.mark.slow


def test_train_resume_validate(options, tmp_path):
    config = small_run_config(tmp_path, iterations=6, validation_interval=3)
    store = create_config_store()
    store.store_run_config(config)
    run = Run(store.retrieve_run_config(config.name))
    train_run(run)

    weights = create_weights_store()
    assert weights.latest_iteration(config.name) == 6
    stats = create_stats_store().retrieve_training_stats(config.name)
    assert [s.iteration for s in stats.iteration_stats] == list(range(6))
    assert all(np.isfinite(s.loss) for s in stats.iteration_stats)
    scores = create_stats_store().retrieve_validation_iteration_scores(config.name)
    assert [s.iteration for s in scores] == [3, 6]
    assert weights.retrieve_best(config.name, "val", "best") in (3, 6)
    snapshot = options.runs_base_dir / config.name / "snapshot.zarr"
    assert (snapshot / "3").exists() and (snapshot / "6").exists()

    # a finished run is a no-op; a longer one continues from the checkpoint
    longer = Run(small_run_config(tmp_path, iterations=9, validation_interval=3))
    train_run(longer, validate=False)
    stats = create_stats_store().retrieve_training_stats(config.name)
    assert [s.iteration for s in stats.iteration_stats] == list(range(9))
    assert weights.latest_iteration(config.name) == 9


def test_resume_is_bit_for_bit(options, tmp_path):
    """Training 4 iterations, then 2 more after a restart, equals 6 in one go."""
    straight = small_run_config(tmp_path / "a", name="straight", iterations=6, validation_interval=2)
    train_run(Run(straight), validate=False)
    resumed = small_run_config(tmp_path / "a", name="resumed", iterations=4, validation_interval=2)
    train_run(Run(resumed), validate=False)
    train_run(Run(small_run_config(tmp_path / "a", name="resumed", iterations=6, validation_interval=2)), validate=False)

    weights = create_weights_store()
    a = weights.retrieve_weights("straight", 6)["model"]
    b = weights.retrieve_weights("resumed", 6)["model"]
    for key in a:
        assert np.array_equal(a[key].numpy(), b[key].numpy()), key
    stats = create_stats_store()
    la = [s.loss for s in stats.retrieve_training_stats("straight").iteration_stats]
    lb = [s.loss for s in stats.retrieve_training_stats("resumed").iteration_stats]
    assert la == lb
