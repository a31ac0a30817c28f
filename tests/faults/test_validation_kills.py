"""``dacapo train`` SIGKILLed during its in-training validations (at the start of a validation and
while the validation prediction is written; with 0 and 2 data workers): the resume validates every
stored checkpoint that was due a validation and has no scores, and the best iterations are those
of the stored scores."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dacapo.store.create_store import (
    create_array_store,
    create_config_store,
    create_stats_store,
    create_weights_store,
)
from dacapo.listing import dataset_names
from dacapo.validate import BEST

from e2e.helpers import small_run_config
from .integrity import check_run
from .processes import CliProcess, run_cli

pytestmark = pytest.mark.slow

ITERATIONS = 8
INTERVAL = 2


def _scored(run_name: str) -> list[int]:
    return [s.iteration for s in create_stats_store().retrieve_validation_iteration_scores(run_name)]


def _expected_best(config) -> dict:
    """``{dataset: {criterion: iteration}}`` computed here from the stored scores: per iteration
    the best over the parameter sweep, then the first best iteration (NaN never best)."""
    evaluator = config.task_config.task_type(config.task_config).evaluator
    criteria = list(evaluator.criteria)
    stored = create_stats_store().retrieve_validation_iteration_scores(config.name)
    values = np.asarray([s.scores for s in stored], dtype=float)  # (iteration, dataset, parameter, criterion)
    best = {}
    for d, dataset in enumerate(dataset_names(config)):
        for c, criterion in enumerate(criteria):
            column = values[:, d, :, c]
            if np.all(np.isnan(column)):
                continue
            higher = evaluator.higher_is_better(criterion)
            filled = np.where(np.isnan(column), -np.inf if higher else np.inf, column)
            per_iteration = filled.max(axis=1) if higher else filled.min(axis=1)
            index = int(np.argmax(per_iteration) if higher else np.argmin(per_iteration))
            best.setdefault(dataset, {})[criterion] = stored[index].iteration
        if criteria[0] in best.get(dataset, {}):
            best[dataset][BEST] = best[dataset][criteria[0]]
    return best


@pytest.mark.parametrize("workers", [0, 2])
def test_kills_during_validation_lose_no_validation(options, cli_env, tmp_path, tally, workers):
    runs = options.runs_base_dir
    config = small_run_config(tmp_path / "data", name="validated", iterations=ITERATIONS,
                              validation_interval=INTERVAL, num_data_fetchers=workers)
    create_config_store().store_run_config(config)
    weights = create_weights_store()
    array_store = create_array_store()

    def train(log, fault=None) -> CliProcess:
        env = dict(cli_env, **({"DACAPO_FAULT_INJECT": fault} if fault else {}))
        return CliProcess(["train", "-r", "validated"], env, tmp_path / log, daemon=not workers)

    # 1. killed as the validation of checkpoint 2 begins
    first = train("first.log", "train.validate:kill@1")
    assert first.wait() == -9, first.output[-3000:]
    tally.kill(f"train:validation start ({workers} workers)")
    assert weights.iterations("validated") == [2] and _scored("validated") == []

    # 2. killed while the prediction of checkpoint 4 is being written (after validating 2)
    second = train("second.log")
    prediction = array_store.validation_prediction_array("validated", 4, "val")
    started = second.wait_until(lambda: (prediction.container / prediction.dataset).exists())
    assert started, second.output[-3000:]
    assert second.kill() == -9, second.output[-3000:]
    tally.kill(f"train:validation prediction ({workers} workers)")
    assert _scored("validated") == [2], second.output[-3000:]
    assert weights.iterations("validated") == [2, 4]

    # 3. killed as the validation of checkpoint 6 begins (after validating 4)
    third = train("third.log", "train.validate:kill@1")
    assert third.wait() == -9, third.output[-3000:]
    tally.kill(f"train:validation start ({workers} workers)")
    assert _scored("validated") == [2, 4]
    assert weights.iterations("validated") == [2, 4, 6]
    check_run(runs, "validated", INTERVAL)
    tally.checked("train state whole after kills during validation")

    # a best.json left behind by a kill between the scores and the best iterations
    best_file = runs / "validated" / "checkpoints" / "best.json"
    stale = {"val": {name: 6 for name in json.loads(best_file.read_text())["val"]}}
    best_file.write_text(json.dumps(stale))

    final = run_cli(["train", "-r", "validated"], cli_env, tmp_path / "final.log", daemon=not workers)
    assert final.process.exitcode == 0, final.output[-3000:]
    assert "checkpoint 6 was never validated" in final.output, final.output[-3000:]
    assert check_run(runs, "validated", INTERVAL) == ITERATIONS
    assert _scored("validated") == [2, 4, 6, 8]
    assert weights.retrieve_best_all("validated") == _expected_best(config)
    tally.checked("every due checkpoint validated and best recomputed after kills")


def test_best_is_recomputed_at_resume(options, cli_env, tmp_path, tally):
    """Nothing left to validate, but best.json disagrees with the stored scores (a kill between
    them): a rerun of the finished run puts it right."""
    runs = options.runs_base_dir
    config = small_run_config(tmp_path / "data", name="finished", iterations=INTERVAL, validation_interval=INTERVAL)
    create_config_store().store_run_config(config)
    done = run_cli(["train", "-r", "finished"], cli_env, tmp_path / "done.log")
    assert done.process.exitcode == 0, done.output[-3000:]
    expected = _expected_best(config)
    assert create_weights_store().retrieve_best_all("finished") == expected
    best_file = runs / "finished" / "checkpoints" / "best.json"
    best_file.write_text(json.dumps({"val": {name: 0 for name in expected["val"]}}))
    tally.fault("best.json stale")
    again = run_cli(["train", "-r", "finished"], cli_env, tmp_path / "again.log")
    assert again.process.exitcode == 0, again.output[-3000:]
    assert create_weights_store().retrieve_best_all("finished") == expected
    tally.checked("best recomputed from the stored scores")
