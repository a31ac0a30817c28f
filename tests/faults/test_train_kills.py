"""``dacapo train`` SIGKILLed again and again, at random moments and inside the checkpoint and
stats writes, always resumes: after every kill the stored state is whole, and the run ends with
the weights and loss history of an uninterrupted run, bit for bit."""

from __future__ import annotations

import random
import time

import numpy as np
import pytest

from dacapo.store.create_store import create_config_store
from dacapo.store.file_stats_store import FileStatsStore
from dacapo.store.local_weights_store import LocalWeightsStore

from e2e.helpers import small_run_config
from .integrity import check_run, temp_files
from .processes import CliProcess, run_cli

pytestmark = pytest.mark.slow

ITERATIONS = 36
INTERVAL = 2
SEED = 20261121


def _kill_plan(rng: random.Random) -> list[tuple[str, int]]:
    """10 kills: ``(fault point, hit)`` or ``("timed", 0)`` (a random moment of training)."""
    plan = [("checkpoint.written", rng.choice((1, 2))) for _ in range(2)]
    plan += [("stats.append", rng.choice((1, 2))) for _ in range(2)]
    plan += [("timed", 0) for _ in range(5)]
    rng.shuffle(plan)
    # a kill inside the checkpoint write leaves stats ahead of the checkpoints: the next start
    # rolls them back (an atomic rewrite of the stats file), and is killed inside that rewrite
    first = next(i for i, p in enumerate(plan) if p[0] == "checkpoint.written")
    plan.insert(first + 1, ("stats.rewrite.written", 1))
    return plan


def test_train_survives_ten_sigkills(options, cli_env, tmp_path, tally):
    runs = options.runs_base_dir
    rng = random.Random(SEED)
    store = create_config_store()
    for name in ("reference", "killed"):
        store.store_run_config(small_run_config(
            tmp_path / "data", name=name, iterations=ITERATIONS, validation_interval=INTERVAL,
        ))

    reference = run_cli(["train", "-r", "reference", "--no-validation"], cli_env, tmp_path / "reference.log")
    assert reference.process.exitcode == 0, reference.output[-3000:]
    reference_stats = FileStatsStore(runs / "stats").retrieve_training_stats("reference").iteration_stats
    reference_losses = [s.loss for s in reference_stats]
    assert len(reference_losses) == ITERATIONS
    # timed kills come within one checkpoint period of a checkpoint, so that ten kills do not
    # finish the run whatever the speed of the machine
    period = INTERVAL * sum(s.time for s in reference_stats) / len(reference_stats)

    weights = LocalWeightsStore(runs)
    plan = _kill_plan(rng)
    assert len(plan) >= 10
    for attempt, (point, hit) in enumerate(plan):
        env = dict(cli_env)
        if point != "timed":
            env["DACAPO_FAULT_INJECT"] = f"{point}:kill@{hit}"
        before = len(weights.iterations("killed"))
        process = CliProcess(["train", "-r", "killed", "--no-validation"], env, tmp_path / f"kill{attempt}.log")
        if point == "timed":
            # once training runs (a checkpoint more), kill at a random moment: mid-step, in
            # data loading, in a checkpoint or stats write
            process.wait_until(lambda: len(weights.iterations("killed")) > before)
            time.sleep(rng.uniform(0.0, period))
        else:
            process.wait(120)
        code = process.kill()
        assert code == -9, f"attempt {attempt} ({point}@{hit}) ended with {code}:\n{process.output[-3000:]}"
        tally.kill(f"train:{point}")
        latest = check_run(runs, "killed", INTERVAL, reference_losses)
        assert latest < ITERATIONS
        tally.checked("train state whole after a kill")

    final = run_cli(["train", "-r", "killed", "--no-validation"], cli_env, tmp_path / "final.log")
    assert final.process.exitcode == 0, final.output[-3000:]
    assert check_run(runs, "killed", INTERVAL, reference_losses) == ITERATIONS
    a = weights.retrieve_weights("reference", ITERATIONS)
    b = weights.retrieve_weights("killed", ITERATIONS)
    for part in ("model", "optimizer"):
        flat_a, flat_b = _tensors(a[part]), _tensors(b[part])
        assert flat_a.keys() == flat_b.keys()
        for key in flat_a:
            assert np.array_equal(flat_a[key], flat_b[key]), f"{part} {key} differs"
    losses = [s.loss for s in FileStatsStore(runs / "stats").retrieve_training_stats("killed").iteration_stats]
    assert losses == reference_losses
    # the temp files of checkpoint writes cut short were removed by the runs that followed
    assert temp_files(runs / "killed" / "checkpoints" / "iterations") == []
    tally.checked("train resumed to the uninterrupted weights")


def _tensors(state, prefix: str = "") -> dict:
    import torch

    out = {}
    items = state.items() if isinstance(state, dict) else enumerate(state) if isinstance(state, (list, tuple)) else ()
    for key, value in items:
        name = f"{prefix}/{key}"
        if isinstance(value, torch.Tensor):
            out[name] = value.numpy()
        elif isinstance(value, (dict, list, tuple)):
            out.update(_tensors(value, name))
        else:
            out[name] = np.asarray(value)
    return out
