"""``dacapo train`` on a full disk or a read-only runs directory stops with a one-line error and
leaves everything stored before intact (a rerun resumes); a second ``dacapo train`` of a run
being trained is refused while the first completes untouched."""

from __future__ import annotations

import os

import pytest

from dacapo.store.create_store import create_config_store, create_weights_store

from e2e.helpers import small_run_config
from .integrity import check_run
from .processes import CliProcess, run_cli

pytestmark = pytest.mark.slow

INTERVAL = 2


def _store(tmp_path, name, iterations):
    config = small_run_config(tmp_path / "data", name=name, iterations=iterations, validation_interval=INTERVAL)
    create_config_store().store_run_config(config)
    return config


def _train(name, env, log, **kwargs):
    return run_cli(["train", "-r", name, "--no-validation"], env, log, **kwargs)


def _one_error_line(process, *needles):
    assert process.process.exitcode == 1, process.output[-3000:]
    errors = process.error_lines()
    assert len(errors) == 1, process.output[-3000:]
    assert "Traceback" not in process.output, process.output[-3000:]
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


# (fault, where it strikes, what the error says, the checkpoints kept)
WRITE_FAULTS = [
    ("checkpoint.write:enospc@3", "checkpoints/iterations/6", "No space left on device", [2, 4]),
    ("stats.append:enospc@2", "training_stats.jsonl", "No space left on device", [2]),
    ("checkpoint.write:erofs@2", "checkpoints/iterations/4", "Read-only file system", [2]),
    ("stats.rewrite.write:eio@1", "training_stats.jsonl", "Input/output error", [2]),
]


@pytest.mark.parametrize("fault, where, message, kept", WRITE_FAULTS, ids=[f[0] for f in WRITE_FAULTS])
def test_write_faults_keep_what_was_stored(options, cli_env, tmp_path, tally, fault, where, message, kept):
    """Disk full (ENOSPC), read-only (EROFS) and I/O errors while storing checkpoints and stats
    (running as root, a read-only directory cannot be made with chmod: the OS error is injected
    where the write happens)."""
    runs = options.runs_base_dir
    config = _store(tmp_path, "faulty", iterations=6)
    if fault.startswith("stats.rewrite"):
        # the stats are rewritten (rolled back) when they run ahead of the checkpoints: after a
        # kill between the stats and the checkpoint write
        killed = _train("faulty", {**cli_env, "DACAPO_FAULT_INJECT": "checkpoint.written:kill@2"}, tmp_path / "kill.log")
        assert killed.process.exitcode == -9, killed.output[-3000:]
        tally.kill("train:checkpoint.written")
    process = _train("faulty", {**cli_env, "DACAPO_FAULT_INJECT": fault}, tmp_path / "fault.log")
    _one_error_line(process, message, where)
    tally.fault(f"train:{fault}")
    assert check_run(runs, "faulty", INTERVAL) == kept[-1]
    assert create_weights_store().iterations("faulty") == kept
    assert create_config_store().retrieve_run_config("faulty") == config
    tally.checked("stored state intact after a write fault")

    final = _train("faulty", cli_env, tmp_path / "final.log")
    assert final.process.exitcode == 0, final.output[-3000:]
    assert check_run(runs, "faulty", INTERVAL) == 6
    tally.checked("resumed after a write fault")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_read_only_checkpoints_directory(options, cli_env, tmp_path, tally):
    runs = options.runs_base_dir
    _store(tmp_path, "readonly", iterations=4)
    killed = _train("readonly", {**cli_env, "DACAPO_FAULT_INJECT": "checkpoint.written:kill@2"}, tmp_path / "kill.log")
    assert killed.process.exitcode == -9
    iterations = runs / "readonly" / "checkpoints" / "iterations"
    iterations.chmod(0o555)
    try:
        process = _train("readonly", cli_env, tmp_path / "readonly.log")
        _one_error_line(process, "Permission denied", str(iterations))
        tally.fault("train:read-only directory")
        assert check_run(runs, "readonly", INTERVAL) == 2
    finally:
        iterations.chmod(0o755)
    final = _train("readonly", cli_env, tmp_path / "final.log")
    assert final.process.exitcode == 0, final.output[-3000:]
    assert check_run(runs, "readonly", INTERVAL) == 4
    tally.checked("resumed after a read-only directory")


def test_file_size_limit_is_a_clear_error(options, cli_env, tmp_path, tally):
    """A real write failure (``RLIMIT_FSIZE``: writes past 100 kB fail as on a full disk)."""
    runs = options.runs_base_dir
    config = _store(tmp_path, "limited", iterations=4)
    process = _train("limited", cli_env, tmp_path / "limited.log", file_size_limit=100_000)
    _one_error_line(process, "File too large", "checkpoints/iterations/2")
    tally.fault("train:RLIMIT_FSIZE")
    assert create_weights_store().iterations("limited") == []
    assert check_run(runs, "limited", INTERVAL) == 0
    assert create_config_store().retrieve_run_config("limited") == config
    final = _train("limited", cli_env, tmp_path / "final.log")
    assert final.process.exitcode == 0, final.output[-3000:]
    assert check_run(runs, "limited", INTERVAL) == 4
    tally.checked("resumed after a file size limit")


def test_second_train_of_a_run_is_refused(options, cli_env, tmp_path, tally):
    runs = options.runs_base_dir
    _store(tmp_path, "shared", iterations=40)
    weights = create_weights_store()
    first = CliProcess(["train", "-r", "shared", "--no-validation"], cli_env, tmp_path / "first.log")
    assert first.wait_until(lambda: bool(weights.iterations("shared"))), first.output[-3000:]
    second = _train("shared", cli_env, tmp_path / "second.log")
    assert first.running(), "the first training ended before the second was refused"
    _one_error_line(second, "already being trained", f"pid {first.pid}")
    tally.bad_input("train:concurrent run")
    assert first.wait() == 0, first.output[-3000:]
    assert check_run(runs, "shared", INTERVAL) == 40
    tally.checked("first training complete and continuous")
