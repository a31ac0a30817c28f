"""Config and run names cannot make any store read or write outside ``runs_base_dir``: path
traversal, absolute paths, separators, control characters, over-long names and look-alike
unicode are refused with a ``ConfigError`` by the config, weights, stats and array stores and
the run lock, and nothing is created anywhere."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dacapo.config import ConfigError, validate_name
from dacapo.experiments.tasks import DistanceTaskConfig
from dacapo.experiments.training_stats import TrainingStats
from dacapo.store.create_store import (
    create_array_store,
    create_config_store,
    create_stats_store,
    create_weights_store,
)
from dacapo.utils.run_lock import run_lock

BAD_NAMES = [
    "", ".", "..", "../x", "x/../../y", "../../etc/passwd", "/abs", "/tmp/x", "a/b", "a\\b",
    "a\x00b", "\x00", "abc\n", "\nabc", "a\rb", "a\tb", " a", "a b", "x" * 256, "-rf", ".hidden",
    "a..b", "~", "~/x", "$HOME", "a:b", "a*", "a?", "a|b", "a;b", "é", "café", "ａｂｃ",
    "a\u202eb", "a\u200bb", "a\u2024\u2024b", "\u2215etc", "a\ufe52b", "ǅ", "𝐚",
]


def _store_calls(name: str) -> dict:
    """Every way a name reaches a store, as callables."""
    configs, weights = create_config_store(), create_weights_store()
    stats, arrays = create_stats_store(), create_array_store()
    task = DistanceTaskConfig(name=name, channels=["c"], clip_distance=1.0, tol_distance=1.0)
    return {
        "config store: store": lambda: configs.store_task_config(task),
        "config store: retrieve": lambda: configs.retrieve_task_config(name),
        "config store: retrieve run": lambda: configs.retrieve_run_config(name),
        "config store: delete": lambda: configs.delete_run_config(name),
        "weights store: store": lambda: weights.store_weights(name, 1, {"model": {}}),
        "weights store: retrieve": lambda: weights.retrieve_weights(name, 1),
        "weights store: iterations": lambda: weights.iterations(name),
        "weights store: best dataset": lambda: weights.store_best("run", 1, name, "criterion"),
        "weights store: best": lambda: weights.store_best(name, 1, "dataset", "criterion"),
        "stats store: store": lambda: stats.store_training_stats(name, TrainingStats()),
        "stats store: retrieve": lambda: stats.retrieve_training_stats(name),
        "stats store: validation": lambda: stats.retrieve_validation_iteration_scores(name),
        "array store: run": lambda: arrays.validation_prediction_array(name, 1, "dataset"),
        "array store: dataset": lambda: arrays.validation_prediction_array("run", 1, name),
        "array store: criterion": lambda: arrays.best_validation_array("run", name),
        "array store: snapshot": lambda: arrays.snapshot_container(name),
        "run lock": lambda: run_lock(name).__enter__(),
    }


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.mark.parametrize("name", BAD_NAMES, ids=[repr(n)[:24] for n in BAD_NAMES])
def test_bad_names_are_refused_everywhere(options, tmp_path, name, tally):
    before = _tree(tmp_path)
    with pytest.raises(ConfigError, match="name"):
        validate_name(name)
    for what, call in _store_calls(name).items():
        with pytest.raises(ConfigError) as error:
            call()
        assert "\n" not in str(error.value).strip(), f"{what}: a multi-line error"
        tally.bad_input(f"name:{what}")
    assert _tree(tmp_path) == before, "a refused name created files"
    tally.checked("bad names refused, nothing created")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.one_of(
    st.text(max_size=20),
    st.text(alphabet=st.sampled_from("a./\\\x00\n-_~é"), max_size=8),
    st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.\-+=@]{0,12}", fullmatch=True),
))
def test_any_accepted_name_stays_inside_runs_base_dir(options, name, tally):
    """A name either is refused or is exactly one path component inside every store."""
    tally.bad_input("name:fuzzed")
    try:
        validate_name(name)
    except ConfigError:
        return
    base = Path(os.path.abspath(options.runs_base_dir))
    weights, arrays = create_weights_store(), create_array_store()
    paths = [
        weights._file(name, 1),
        create_stats_store()._file(name, "training_stats.jsonl"),
        arrays.validation_prediction_array(name, 1, name).path,
        arrays.best_validation_array(name, name).path,
        create_config_store()._file("run", name),
    ]
    for path in paths:
        resolved = Path(os.path.abspath(path))
        assert base in resolved.parents, f"{name!r} -> {path}"
        assert name in resolved.relative_to(base).parts or f"{name}.yaml" in resolved.parts
