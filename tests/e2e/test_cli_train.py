"""`dacapo train -r NAME` on a stored run; SIGKILL mid-way; rerun continues from the last
checkpoint with a continuous iteration count and no lost stats."""

import os
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from dacapo.cli import cli
from dacapo.options import Options
from dacapo.store.create_store import create_config_store, create_stats_store, create_weights_store

from .helpers import small_run_config

pytestmark = pytest.mark.slow


def _train_command(name):
    return [sys.executable, "-m", "dacapo.cli", "train", "-r", name, "--no-validation"]


def test_train_killed_and_resumed(options, tmp_path):
    config = small_run_config(
        tmp_path, name="killed", iterations=40, validation_interval=4, num_data_fetchers=1
    )
    create_config_store().store_run_config(config)
    env = {**os.environ, **Options.export_environment(options)}
    weights = create_weights_store()

    process = subprocess.Popen(_train_command("killed"), env=env, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while (weights.latest_iteration("killed") or 0) < 8:
        assert process.poll() is None, "training ended before it could be killed"
        assert time.time() < deadline, "no checkpoint appeared"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed_at = weights.latest_iteration("killed")
    assert 8 <= killed_at < 40

    result = subprocess.run(_train_command("killed"), env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert weights.latest_iteration("killed") == 40
    stats = create_stats_store().retrieve_training_stats("killed")
    assert [s.iteration for s in stats.iteration_stats] == list(range(40))


def test_unknown_run_is_one_line(options):
    result = CliRunner().invoke(cli, ["train", "-r", "no_such_run"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "no_such_run" in lines[0], result.output


def test_concurrent_train_is_refused(options, tmp_path):
    from dacapo.utils.run_lock import RunLockedError, run_lock

    with run_lock("locked"):
        with pytest.raises(RunLockedError, match="already being trained"):
            with run_lock("locked"):
                pass
