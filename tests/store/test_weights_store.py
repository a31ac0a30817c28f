import multiprocessing
import random
import sys

import numpy as np
import pytest
import torch

from dacapo.config import ConfigError
from dacapo.store.create_store import create_weights_store
from dacapo.store.local_weights_store import LocalWeightsStore

from .helpers import Dataset


@pytest.fixture
def store(tmp_path):
    return LocalWeightsStore(tmp_path)


def checkpoint(seed=0):
    torch.manual_seed(seed)
    model = torch.nn.Conv3d(1, 2, 3)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model(torch.ones(1, 1, 4, 4, 4)).sum().backward()
    optimizer.step()
    return {
        "iteration": seed,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": None,
        "rng": {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()},
    }


def iterations_dir(store, run="run"):
    return store.path / run / "checkpoints" / "iterations"


def test_store_and_retrieve(store):
    state = checkpoint(3)
    store.store_weights("run", 3, state)
    assert (iterations_dir(store) / "3").is_file()
    loaded = store.retrieve_weights("run", 3)
    assert loaded["iteration"] == 3
    for key, value in state["model"].items():
        assert torch.equal(loaded["model"][key], value)
    assert loaded["optimizer"]["state"][0]["exp_avg"].equal(state["optimizer"]["state"][0]["exp_avg"])
    assert loaded["rng"]["python"] == state["rng"]["python"]
    assert np.array_equal(loaded["rng"]["numpy"][1], state["rng"]["numpy"][1])
    assert [p.name for p in iterations_dir(store).iterdir()] == ["3"]  # no temp file left


def test_retrieve_missing_is_clear(store):
    store.store_weights("run", 1, {"x": 1})
    with pytest.raises(FileNotFoundError, match=r"run 'run' has no checkpoint of iteration 2 \(stored: \[1\]"):
        store.retrieve_weights("run", 2)


def test_latest_iteration_uses_names_only(store):
    assert store.latest_iteration("run") is None
    for iteration in (10, 2, 100):
        store.store_weights("run", iteration, {"iteration": iteration})
    (iterations_dir(store) / ".tmp-0123456789abcdef").write_bytes(b"partial")  # crash leftover
    (iterations_dir(store) / "notes").write_text("x")
    assert store.iterations("run") == [2, 10, 100]
    assert store.latest_iteration("run") == 100


def test_latest_iteration_verify_skips_damaged_checkpoints(store):
    store.store_weights("run", 1, checkpoint(1))
    store.store_weights("run", 2, checkpoint(2))
    path = iterations_dir(store) / "2"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])  # e.g. a partial copy
    assert store.latest_iteration("run") == 2
    assert store.latest_iteration("run", verify=True) == 1
    assert store.is_intact("run", 1) and not store.is_intact("run", 2)


def test_a_failed_write_leaves_nothing(store):
    store.store_weights("run", 1, {"iteration": 1})
    with pytest.raises(Exception):
        store.store_weights("run", 2, {"unpicklable": lambda: None})
    with pytest.raises(Exception):
        store.store_weights("run", 1, {"unpicklable": lambda: None})
    assert [p.name for p in iterations_dir(store).iterdir()] == ["1"]
    assert store.retrieve_weights("run", 1) == {"iteration": 1}


def test_best(store, caplog):
    assert store.retrieve_best("run", "a", "dice") is None
    assert store.retrieve_best_all("run") == {}
    store.store_weights("run", 5, {})
    store.store_best("run", 5, "a", "dice")
    store.store_best("run", 5, Dataset("b"), "dice")
    with caplog.at_level("WARNING", logger="dacapo.store.local_weights_store"):
        store.store_best("run", 7, "a", "voi")  # warns once: no checkpoint 7
        store.store_best("run", 7, "b", "voi")
        store.store_best("run", 9, "a", "dice")
    assert [r.getMessage() for r in caplog.records] == [
        "run run: best iteration 7 (a, voi and maybe others) has no stored checkpoint",
        "run run: best iteration 9 (a, dice and maybe others) has no stored checkpoint",
    ]
    assert store.retrieve_best("run", "a", "dice") == 9
    assert store.retrieve_best("run", Dataset("a"), "voi") == 7
    assert store.retrieve_best("run", "c", "dice") is None
    assert store.retrieve_best_all("run") == {"a": {"dice": 9, "voi": 7}, "b": {"dice": 5, "voi": 7}}
    assert store.retrieve_best("run", None, "voi") == 7  # both datasets agree on voi
    with pytest.raises(ValueError, match="differs between validation datasets"):
        store.retrieve_best("run", None, "dice")
    assert sorted(p.name for p in (store.path / "run" / "checkpoints").iterdir()) == [
        ".best.lock", "best.json", "iterations"
    ]


def _store_bests(path, dataset, barrier):
    store = LocalWeightsStore(path)
    barrier.wait()
    for i in range(20):
        store.store_best("run", i, dataset, f"c{i % 3}")


def test_concurrent_best_updates_are_not_lost(tmp_path):
    context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    barrier = context.Barrier(2)
    workers = [context.Process(target=_store_bests, args=(tmp_path, d, barrier)) for d in ("a", "b")]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=30)
        assert w.exitcode == 0
    expected = {"c0": 18, "c1": 19, "c2": 17}
    assert LocalWeightsStore(tmp_path).retrieve_best_all("run") == {"a": expected, "b": expected}


def test_remove_and_prune_keep_last_and_best(store):
    for iteration in range(0, 100, 10):
        store.store_weights("run", iteration, {"iteration": iteration})
    store.store_best("run", 20, "a", "dice")
    store.store_best("run", 50, "b", "voi")
    store.remove("run", 0)
    store.remove("run", 0)  # absent: fine
    assert store.prune("run", keep_last=2) == [10, 30, 40, 60, 70]
    assert store.iterations("run") == [20, 50, 80, 90]
    assert store.prune("run", keep_last=0) == [80, 90]
    assert store.iterations("run") == [20, 50]
    with pytest.raises(ValueError):
        store.prune("run", keep_last=-1)


@pytest.mark.parametrize("name", ["../x", "a/b", "/abs", ""])
def test_invalid_run_names(store, name):
    with pytest.raises(ConfigError):
        store.store_weights(name, 1, {})
    with pytest.raises(ConfigError):
        store.latest_iteration(name)


@pytest.mark.parametrize("iteration", [-1, 1.5, "3", True])
def test_invalid_iterations(store, iteration):
    with pytest.raises((ValueError, TypeError)):
        store.store_weights("run", iteration, {})


def test_create_weights_store(options):
    store = create_weights_store()
    assert isinstance(store, LocalWeightsStore) and store.path == options.runs_base_dir
