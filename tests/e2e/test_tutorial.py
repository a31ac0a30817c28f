"""The seed tutorial's code, unchanged but for its data paths and iteration count
(examples/tutorial/tutorial.py), on generated data laid out like the tutorial's, starting from
``StartConfig("setup04", "best")`` after a run named setup04 has trained and validated.

This trains the tutorial's full-size network (235 M parameters, 216³ input) on the CPU: one
iteration each for setup04 and the tutorial run, ~12 GB of memory and a few minutes."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dacapo.options import Options
from dacapo.store.create_store import create_config_store, create_stats_store, create_weights_store

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tutorial"


def test_seed_tutorial_runs_unchanged(options, tmp_path):
    env = {**os.environ, **Options.export_environment(options)}
    setup = subprocess.run(
        [sys.executable, str(EXAMPLES / "setup04.py"), str(tmp_path / "data"), "--iterations", "1"],
        env=env, capture_output=True, text=True, timeout=900,
    )
    assert setup.returncode == 0, setup.stderr[-3000:]
    paths = dict(item.split("=", 1) for item in setup.stdout.strip().splitlines()[-1].split())
    weights = create_weights_store()
    assert weights.retrieve_best("setup04", None, "best") == 1

    tutorial = subprocess.run(
        [sys.executable, str(EXAMPLES / "tutorial.py")],
        env={**env, **paths, "TUTORIAL_ITERATIONS": "1"},
        capture_output=True, text=True, timeout=900,
    )
    assert tutorial.returncode == 0, tutorial.stderr[-3000:]
    names = tutorial.stdout.strip().splitlines()
    assert len(names) == 3 and names[0].startswith("example_finetuned_example_jrc_mus-livers")
    store = create_config_store()
    assert set(names) <= set(store.retrieve_run_config_names())
    trained = names[-1]
    assert weights.latest_iteration(trained) == 1
    assert [s.iteration for s in create_stats_store().retrieve_training_stats(trained).iteration_stats] == [0]
    # it started from setup04's best weights: one step at the warm-up learning rate (1e-7)
    # later, its weights are still those, not a fresh initialisation
    start = weights.retrieve_weights("setup04", 1)["model"]
    after = weights.retrieve_weights(trained, 1)["model"]
    assert start.keys() == after.keys()
    for key in start:
        if "running_" in key or "num_batches_tracked" in key:
            continue  # batch-norm statistics move with every training forward pass
        assert (start[key].float() - after[key].float()).abs().max() < 1e-3, key
