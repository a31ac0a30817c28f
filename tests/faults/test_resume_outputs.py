"""``dacapo validate`` and ``dacapo predict`` SIGKILLed mid-way (at random moments and inside
their writes) and run again produce exactly what an uninterrupted run produces; the blockwise
rerun computes only the blocks without a done marker."""

from __future__ import annotations

import json
import os
import random
import shutil
import time

import numpy as np
import pytest
from funlib.persistence import open_ds

from dacapo.blockwise import Bookkeeping
from dacapo.store.create_store import create_config_store
from dacapo.utils.synthetic import write_cells

from e2e.helpers import small_run_config
from options_isolation import isolate_options
from .integrity import stats_records
from .processes import CliProcess, run_cli

pytestmark = pytest.mark.slow

RUN = "resumable"
ITERATION = 2
SEED = 7


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """``(runs_base_dir, environment of dacapo processes)`` with run ``RUN`` trained for
    ``ITERATION`` iterations (once for this module)."""
    from dacapo.options import Options

    root = tmp_path_factory.mktemp("resume")
    with pytest.MonkeyPatch.context() as patch:
        isolate_options(patch, root)
        env = {**os.environ, **Options.export_environment(), "OMP_NUM_THREADS": "1"}
        config = small_run_config(root / "data", name=RUN, iterations=ITERATION, validation_interval=ITERATION)
        create_config_store().store_run_config(config)
        process = run_cli(["train", "-r", RUN, "--no-validation"], env, root / "train.log")
        assert process.process.exitcode == 0, process.output[-3000:]
        yield root / "runs", env


def _validation_outputs(runs):
    records = stats_records(runs, RUN, "validation_scores.jsonl")
    best = json.loads((runs / RUN / "checkpoints" / "best.json").read_text())
    prediction = open_ds(str(runs / RUN / "validation.zarr" / str(ITERATION) / "val" / "prediction"))
    return records, best, prediction[prediction.roi]


def _forget_validation(runs):
    (runs / "stats" / RUN / "validation_scores.jsonl").unlink()
    (runs / RUN / "checkpoints" / "best.json").unlink()
    shutil.rmtree(runs / RUN / "validation.zarr")


def test_validation_killed_and_rerun_is_identical(trained, tmp_path, tally):
    runs, cli_env = trained
    rng = random.Random(SEED)
    command = ["validate", "-r", RUN, "-i", str(ITERATION)]
    predicted = runs / RUN / "validation.zarr" / str(ITERATION) / "val" / "prediction"
    reference = CliProcess(command, cli_env, tmp_path / "reference.log")
    reference.wait_until(predicted.exists)
    started = time.monotonic()
    assert reference.wait() == 0, reference.output[-3000:]
    remaining = time.monotonic() - started  # from the prediction's creation to the end
    records, best, prediction = _validation_outputs(runs)
    assert [r["iteration"] for r in records] == [ITERATION]
    _forget_validation(runs)

    for attempt, point in enumerate(["timed", "stats.append", "best.written", "timed"]):
        env = dict(cli_env)
        if point != "timed":
            env["DACAPO_FAULT_INJECT"] = f"{point}:kill"
        process = CliProcess(command, env, tmp_path / f"kill{attempt}.log")
        if point == "timed":  # mid-prediction or later
            process.wait_until(predicted.exists)
            time.sleep(rng.uniform(0.0, 0.7 * remaining))
        else:
            process.wait(120)
        assert process.kill() == -9, process.output[-3000:]
        tally.kill(f"validate:{point}")
        stored = stats_records(runs, RUN, "validation_scores.jsonl")  # whole records only
        assert stored in ([], records), stored
        best_file = runs / RUN / "checkpoints" / "best.json"
        assert not best_file.exists() or json.loads(best_file.read_text()) == best
        tally.checked("validation state whole after a kill")

    final = run_cli(command, cli_env, tmp_path / "final.log")
    assert final.process.exitcode == 0, final.output[-3000:]
    final_records, final_best, final_prediction = _validation_outputs(runs)
    assert final_records == records
    assert final_best == best
    assert np.array_equal(final_prediction, prediction)
    tally.checked("validation rerun equals the uninterrupted one")


def test_blockwise_predict_killed_and_rerun_is_identical(trained, tmp_path, tally):
    _, cli_env = trained
    rng = random.Random(SEED)
    data = write_cells(tmp_path / "input.zarr", (96, 96, 96), voxel_size=(8, 8, 8), seed=7, num_objects=10)

    def command(dataset):
        return ["predict", "-r", RUN, "-i", str(ITERATION), "-ic", str(data.container), "-id", "raw",
                "-op", str(tmp_path / "out.zarr" / dataset), "-roi", "[64:640,64:640,64:640]", "-nw", "1"]

    reference = CliProcess(command("reference"), cli_env, tmp_path / "reference.log")
    reference_done = Bookkeeping.for_array(tmp_path / "out.zarr", "reference").done_dir
    reference.wait_until(lambda: reference_done.is_dir() and any(reference_done.iterdir()))
    started = time.monotonic()
    assert reference.wait() == 0, reference.output[-3000:]
    block_time = (time.monotonic() - started) / 7  # (the first block was done at the start)
    expected = open_ds(str(tmp_path / "out.zarr" / "reference"))
    expected = expected[expected.roi]

    bookkeeping = Bookkeeping.for_array(tmp_path / "out.zarr", "killed")
    for attempt, point in enumerate(["blockwise.marker", "timed", "timed"]):
        env = dict(cli_env)
        done_before = len(bookkeeping.done_indices())
        if point != "timed":
            env["DACAPO_FAULT_INJECT"] = f"{point}:kill@2"
        process = CliProcess(command("killed"), env, tmp_path / f"kill{attempt}.log")
        if point == "timed":  # once a block more is done, at a random moment
            process.wait_until(lambda: len(bookkeeping.done_indices()) > done_before)
            time.sleep(rng.uniform(0.0, block_time))
        else:
            process.wait(120)
        assert process.kill() == -9, process.output[-3000:]
        tally.kill(f"predict:{point}")
        assert len(bookkeeping.done_indices()) < 8
        tally.checked("blockwise state whole after a kill")

    done_before = set(bookkeeping.done_indices())
    final = run_cli(command("killed"), cli_env, tmp_path / "final.log")
    assert final.process.exitcode == 0, final.output[-3000:]
    result = open_ds(str(tmp_path / "out.zarr" / "killed"))
    assert np.array_equal(result[result.roi], expected)
    markers = bookkeeping.done()
    assert len(markers) == 8
    final_run = {markers[i]["run"] for i in set(markers) - done_before}
    assert len(final_run) == 1 and not {markers[i]["run"] for i in done_before} & final_run, \
        "the rerun recomputed blocks that were done"
    tally.checked("blockwise rerun equals the uninterrupted one")
