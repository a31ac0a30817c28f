"""What `dacapo train` and `dacapo validate` say at the default log level off a terminal (as
under SLURM), and `dacapo train --iterations N` extending a finished run."""

import json

import pytest
from click.testing import CliRunner

from dacapo.cli import cli
from dacapo.store.create_store import create_config_store, create_stats_store, create_weights_store

from e2e.helpers import small_run_config

pytestmark = pytest.mark.slow


def _invoke(*args):
    return CliRunner().invoke(cli, list(args))


def test_train_says_what_happens_and_extends(options, tmp_path):
    config = small_run_config(tmp_path, name="talk", iterations=4, validation_interval=2,
                              shape=(48, 48, 48))
    create_config_store().store_run_config(config)

    result = _invoke("train", "-r", "talk")
    assert result.exit_code == 0, result.output
    err = result.stderr
    assert "\r" not in err  # not a terminal: plain lines, no tqdm updates
    assert "training run talk on cpu: iterations 0 to 4" in err
    assert "train talk: iteration 2/4, loss " in err and "train talk: iteration 4/4" in err
    lines = [line for line in err.splitlines() if line.startswith("validation talk @")]
    assert [line.split(":")[0] for line in lines] == ["validation talk @2", "validation talk @4"]
    assert "val: " in lines[0] and "* new best" in lines[0]
    assert "run talk finished: trained for 4 iterations" in err

    # a finished run says so, and how to go on
    result = _invoke("train", "-r", "talk")
    assert result.exit_code == 0
    assert "run talk is finished: trained for 4 of 4 iterations" in result.stderr
    assert "--iterations N" in result.stderr

    # extending keeps stats, checkpoints and validations
    result = _invoke("train", "-r", "talk", "--iterations", "6")
    assert result.exit_code == 0, result.output
    assert "resuming run talk from its checkpoint at iteration 4" in result.stderr
    assert "validation talk @6" in result.stderr
    stats = create_stats_store()
    assert [s.iteration for s in stats.retrieve_training_stats("talk").iteration_stats] == list(range(6))
    assert [s.iteration for s in stats.retrieve_validation_iteration_scores("talk")] == [2, 4, 6]
    assert create_weights_store().iterations("talk") == [2, 4, 6]
    record = options.runs_base_dir / "talk" / "iterations.json"
    assert json.loads(record.read_text()) == {"num_iterations": 6}
    assert create_config_store().retrieve_run_config("talk") == config  # the config is unchanged

    # the recorded length holds for later commands: ls, a plain rerun
    result = _invoke("ls", "--no-configs")
    row = next(line for line in result.output.splitlines() if line.startswith("talk"))
    assert "6/6" in row and "done" in row
    assert "trained for 6 of 6" in _invoke("train", "-r", "talk").stderr

    # below the latest checkpoint: one line naming the value
    result = _invoke("train", "-r", "talk", "--iterations", "3")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: run 'talk': --iterations 3 is below its latest checkpoint (6); give at least 6"]
    assert json.loads(record.read_text()) == {"num_iterations": 6}

    # dacapo validate prints the scores
    result = _invoke("validate", "-r", "talk", "-i", "4")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("dataset val (iteration 4)\n")  # the scores table,
    assert result.stdout.splitlines()[-1].startswith("validation talk @4: val: ")  # the summary


def test_ls_shows_live_progress_between_checkpoints(options, tmp_path):
    """Stats and checkpoints come every validation_interval; ls still shows where training is;
    Ctrl-C says where training stopped and where it will resume."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from dacapo.listing import summarize_run
    from dacapo.options import Options

    config = small_run_config(tmp_path, name="live", iterations=1000, validation_interval=1000,
                              shape=(48, 48, 48))
    create_config_store().store_run_config(config)
    env = {**os.environ, **Options.export_environment(options)}
    process = subprocess.Popen([sys.executable, "-m", "dacapo.cli", "train", "-r", "live"],
                               env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        while (summary := summarize_run("live")).training is None:
            assert process.poll() is None, process.stderr.read()[-2000:]
            assert time.time() < deadline, "no live progress appeared"
            time.sleep(0.2)
        assert summary.trained == 0 and summary.status == "training"
        result = _invoke("ls", "--no-configs")
        row = next(line for line in result.output.splitlines() if line.startswith("live"))
        assert f"{summary.training}/1000 (checkpoint 0)" in row or "/1000 (checkpoint 0)" in row
        assert "training" in row
        assert f"(read from {create_config_store()}" in result.output
        process.send_signal(signal.SIGINT)  # Ctrl-C
        err = process.communicate(timeout=60)[1]
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait()
    assert "run live interrupted at iteration " in err
    assert "its latest checkpoint is 0, from which dacapo train -r live resumes" in err
    summary = summarize_run("live")  # the process is gone: no longer "training"
    assert summary.training is None and summary.status == "not started"


def test_a_warmup_longer_than_the_run_is_warned(options, tmp_path):
    import attrs

    config = small_run_config(tmp_path, name="warm", iterations=2, validation_interval=2,
                              shape=(48, 48, 48))
    config = attrs.evolve(config, trainer_config=attrs.evolve(
        config.trainer_config, name="warm_trainer", warmup_iterations=1000))
    create_config_store().store_run_config(config)
    result = _invoke("train", "-r", "warm", "--no-validation")
    assert result.exit_code == 0, result.output
    assert ("run warm: the trainer 'warm_trainer' warms the learning rate up over 1000 "
            "iterations but the run trains for 2") in result.stderr
