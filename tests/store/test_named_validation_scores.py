"""Validation scores name their datasets, post-processing parameters and criteria; records stored
before the names existed are read and named after the run; scores of another sweep line up by
parameter values."""

import json
import math

import numpy as np
import pytest

from dacapo.experiments import ValidationIterationScores, ValidationScores
from dacapo.experiments.validation_iteration_scores import stack_scores
from dacapo.experiments.tasks.evaluators.instance_evaluator import InstanceEvaluator

from .backends import backend  # noqa: F401 (fixture)
from .helpers import DATASETS, PARAMETERS, Parameters, Scores

NAMES = dict(datasets=["a", "b"], criteria=["dice", "voi"],
             parameters=[{"threshold": 0.1}, {"threshold": 0.5}, {"threshold": 0.9}])


def named_scores(iteration=10, seed=0, baselines=None):
    values = np.random.default_rng(seed).random((2, 3, 2))
    return ValidationIterationScores(iteration, values, baselines=baselines, **NAMES)


def test_rows_score_best_and_table():
    scores = named_scores(baselines={"a": {"one_segment": {"dice": 0.2, "voi": 3.5}}})
    rows = list(scores.rows())
    assert len(rows) == 12
    assert rows[1] == {"dataset": "a", "parameters": {"threshold": 0.1}, "criterion": "voi",
                       "score": scores.scores[0][0][1]}
    assert scores.score("b", "dice", threshold=0.9) == scores.scores[1][2][0]
    with pytest.raises(KeyError, match="threshold=0.3"):
        scores.score("b", "dice", threshold=0.3)
    voi_b = [p[1] for p in scores.scores[1]]
    parameters, value = scores.best("b", "voi", higher_is_better=False)
    assert value == min(voi_b) and parameters == NAMES["parameters"][int(np.argmin(voi_b))]

    table = scores.format(Scores.higher_is_better)
    assert "dataset a (iteration 10)" in table and "dataset b (iteration 10)" in table
    assert "threshold=0.5" in table and "baseline one_segment" in table
    header = next(line for line in table.splitlines() if "parameters" in line)
    assert header.split() == ["parameters", "dice", "voi"]
    assert f"best voi: {value:.4g} at threshold=" in table


def test_names_must_fit_the_scores():
    with pytest.raises(ValueError, match="2 criteria named but the scores have 3"):
        ValidationIterationScores(1, np.zeros((2, 3, 3)), **NAMES)
    unnamed = ValidationIterationScores(1, np.zeros((2, 3, 2)))
    with pytest.raises(ValueError, match="have no names"):
        unnamed.format()


def test_named_scores_round_trip_in_every_store(backend):
    scores = ValidationScores(PARAMETERS, DATASETS, Scores())
    scores.add_iteration_scores(named_scores(10, baselines={"a": {"one_segment": {"voi": math.inf}}}))
    scores.add_iteration_scores(ValidationIterationScores(20, np.full((2, 3, 2), np.nan)))
    store = backend.stats_store()
    store.store_validation_iteration_scores("run", scores)
    retrieved = backend.stats_store().retrieve_validation_iteration_scores("run")
    assert retrieved == scores.scores  # the unnamed one was named when added
    assert retrieved[1].parameters == NAMES["parameters"]
    assert retrieved[0].baselines == {"a": {"one_segment": {"voi": math.inf}}}


def test_old_records_are_named_after_the_run(tmp_path):
    """A ``validation_scores.jsonl`` written before names existed: iteration and nested scores."""
    from dacapo.store.file_stats_store import FileStatsStore

    path = tmp_path / "run" / "validation_scores.jsonl"
    path.parent.mkdir()
    old = np.arange(12.0).reshape(2, 3, 2)
    path.write_text(json.dumps({"iteration": 5, "scores": old.tolist()}) + "\n")
    records = FileStatsStore(tmp_path).retrieve_validation_iteration_scores("run")
    assert not records[0].named
    scores = ValidationScores(PARAMETERS, DATASETS, Scores(), records)
    assert scores.scores[0].named
    assert scores.scores[0].score("b", "voi", threshold=0.5) == old[1, 1, 1]
    # storing again appends nothing new for iteration 5 but writes names for the new iteration
    scores.add_iteration_scores(ValidationIterationScores(6, old))
    FileStatsStore(tmp_path).store_validation_iteration_scores("run", scores)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["iteration"] for line in lines] == [5, 6]
    assert lines[1]["criteria"] == ["dice", "voi"]


def test_scores_of_another_sweep_line_up_by_parameter_values():
    """The sweep became 0.5, 0.9, 1.3 (a config change): iteration 10's scores of 0.1, 0.5, 0.9
    keep their values at 0.5 and 0.9; what they did not sweep is NaN."""
    parameters = [Parameters(0, 0.5), Parameters(1, 0.9), Parameters(2, 1.3)]
    old = named_scores(10)
    scores = ValidationScores(parameters, DATASETS, Scores(), [old])
    data = scores.to_xarray()
    assert data.shape == (1, 2, 3, 2)
    np.testing.assert_array_equal(data.values[0, :, :2], np.asarray(old.scores)[:, 1:])
    assert np.isnan(data.values[0, :, 2]).all()


def test_aligned_picks_scores_by_name_in_any_order():
    """What ``apply``'s best parameters read: another sweep, datasets and criteria reordered,
    a missing setting, dataset or criterion NaN, never a neighbour's value."""
    old = named_scores(10)
    values = np.asarray(old.scores)
    aligned = old.aligned(["b", "c"], [{"threshold": 0.9}, {"threshold": 0.3}, {"threshold": 0.1}],
                          ["voi", "dice", "f1"])
    assert aligned.shape == (2, 3, 3)
    np.testing.assert_array_equal(aligned[0, 0, :2], values[1, 2, ::-1])
    np.testing.assert_array_equal(aligned[0, 2, :2], values[1, 0, ::-1])
    assert np.isnan(aligned[1]).all() and np.isnan(aligned[:, 1]).all()
    assert np.isnan(aligned[..., 2]).all()
    same = old.aligned(NAMES["datasets"], NAMES["parameters"], NAMES["criteria"])
    np.testing.assert_array_equal(same, values)


def test_iterations_of_different_sweeps_stack_by_name():
    """``ls``, ``plot`` and the validation line read every iteration through ``stack_scores``: a
    sweep widened between validations (an upgrade's new default biases) lines up by value, and
    an unnamed old record keeps its order."""
    first = named_scores(10)
    wider = ValidationIterationScores(
        20, np.random.default_rng(1).random((2, 4, 2)), datasets=["a", "b"],
        criteria=["dice", "voi"],
        parameters=[{"threshold": t} for t in (0.0, 0.1, 0.5, 0.9)],
    )
    unnamed = ValidationIterationScores(30, np.random.default_rng(2).random((2, 3, 2)))
    stacked = stack_scores([first, wider, unnamed], ["a", "b"], ["dice", "voi"])
    assert stacked.shape == (3, 2, 4, 2)  # settings 0.1, 0.5, 0.9, then 0.0
    np.testing.assert_array_equal(stacked[0, :, :3], np.asarray(first.scores))
    assert np.isnan(stacked[0, :, 3]).all()
    np.testing.assert_array_equal(stacked[1, :, :3], np.asarray(wider.scores)[:, 1:])
    np.testing.assert_array_equal(stacked[1, :, 3], np.asarray(wider.scores)[:, 0])
    np.testing.assert_array_equal(stacked[2, :, :3], np.asarray(unnamed.scores))


def test_instance_baselines():
    gt = np.zeros((6, 8), dtype=np.uint64)
    gt[:, :4], gt[:, 4:] = 1, 2
    baselines = InstanceEvaluator().baselines(gt, voxel_size=(1, 1))
    one, every = baselines["one_segment"], baselines["every_voxel"]
    assert one.voi_split == pytest.approx(0) and one.voi_merge == pytest.approx(1.0)  # H(gt)
    assert every.voi_merge == pytest.approx(0) and every.voi_split == pytest.approx(np.log2(24))
    # a mask restricts them like the evaluation
    mask = np.zeros_like(gt, dtype=np.uint8)
    mask[:, :4] = 1
    assert InstanceEvaluator().baselines(gt, (1, 1), mask)["one_segment"].voi == pytest.approx(0)
