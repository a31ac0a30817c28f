"""`dacapo apply` / `predict` / `run-blockwise` as a user meets them: what can be checked is
checked before any output exists or a worker starts; workers that keep failing end in one
``Error:`` line naming their logs; Ctrl-C shows no done tick and a rerun says how many blocks
an earlier run did."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from dacapo.cli import cli
from dacapo.utils.synthetic import write_cells

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def volume(tmp_path_factory):
    return write_cells(tmp_path_factory.mktemp("input") / "in.zarr", (56, 56, 56),
                       voxel_size=(8, 8, 8), seed=5, num_objects=4)


def _invoke(*args):
    return CliRunner().invoke(cli, list(args))


def _error_line(result) -> str:
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, result.output
    return lines[0]


def test_apply_and_predict_check_before_creating_outputs(trained_run, volume, tmp_path):
    _, config = trained_run
    common = ["-r", config.name, "-ic", str(volume.container), "-id", "raw"]
    out = tmp_path / "out"

    line = _error_line(_invoke("apply", *common, "-op", str(out), "-i", "7"))
    assert "has no checkpoint of iteration 7 (stored: [2, 4])" in line, line
    line = _error_line(_invoke("predict", *common, "-op", str(out), "-i", "7"))
    assert "has no checkpoint of iteration 7" in line, line

    line = _error_line(_invoke("apply", *common, "-op", str(out), "-c", "dcie"))
    assert "unknown criterion 'dcie'" in line and "cell__dice" in line, line
    assert "validate it first" not in line

    line = _error_line(_invoke("apply", *common, "-op", str(out), "-vd", "nope"))
    assert "no validation dataset 'nope'; known: val" in line, line

    line = _error_line(_invoke("apply", *common, "-op", str(out), "-i", "4", "-p", "size=3"))
    assert "size" in line, line
    assert not out.exists()  # nothing created, no lock, no bookkeeping


def _cli_process(args, cwd, **env):
    environment = dict(os.environ, PYTHONPATH=str(REPO), **env)
    return subprocess.Popen([sys.executable, "-m", "dacapo.cli", *args], cwd=cwd,
                            env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)


_WORKERS = """
import time

def process_block(block, seconds=0.0, **_):
    if seconds < 0:
        raise ValueError("this worker is broken")
    time.sleep(seconds)
"""


def _run_blockwise_args(output: str, *extra):
    return ["run-blockwise", "-wf", "workers.py", "-tr", "[0:32,0:32,0:32]",
            "-rr", "[8,16,16]", "-wr", "[8,16,16]", "-nw", "2", "-dt", "uint8", "-co", "1",
            "--output_container", "out.zarr", "--output_dataset", output, *extra]


@pytest.mark.slow
def test_failing_workers_end_in_one_error_line(options, tmp_path):
    (tmp_path / "workers.py").write_text(_WORKERS)
    process = _cli_process(_run_blockwise_args("broken", "--seconds", "-1"), tmp_path)
    output, _ = process.communicate(timeout=300)
    assert process.returncode == 1, output
    assert "max_worker_restarts" not in output and "Traceback" not in output, output
    errors = [line for line in output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, output
    assert "Last worker error: ValueError: this worker is broken" in errors[0], errors[0]
    logs = tmp_path / "out.zarr" / ".blockwise" / "broken" / "logs"
    assert f"Worker logs: {Path('out.zarr/.blockwise/broken/logs')}." in errors[0], errors[0]
    assert "this worker is broken" in (logs / "scheduler.log").read_text()
    assert len(output.splitlines()) < 20, output


@pytest.mark.slow
def test_interrupt_shows_no_done_tick_and_the_rerun_counts_done_blocks(options, tmp_path):
    (tmp_path / "workers.py").write_text(_WORKERS)
    done = tmp_path / "out.zarr" / ".blockwise" / "slow" / "done"
    process = _cli_process(_run_blockwise_args("slow", "--seconds", "0.3"), tmp_path)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(done.glob("*.json"))) < 3:
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGINT)  # as Ctrl-C does: the whole foreground group
    output, _ = process.communicate(timeout=120)
    assert process.returncode != 0, output
    assert "✔" not in output, output
    interrupted = [line for line in output.splitlines() if line.startswith("interrupted")]
    assert len(interrupted) == 1 and "of 16 blocks done" in interrupted[0], output
    finished = len(list(done.glob("*.json")))
    assert f"workers {finished} of 16 blocks done" in interrupted[0], output

    process = _cli_process(_run_blockwise_args("slow", "--seconds", "0.3"), tmp_path)
    output, _ = process.communicate(timeout=300)
    assert process.returncode == 0, output
    assert f"workers: {finished} of 16 blocks done by an earlier run; computing the other " \
           f"{16 - finished}" in output, output

    logs = tmp_path / "out.zarr" / ".blockwise" / "slow" / "logs" / "workers"
    started = len(list(logs.glob("worker_*.err")))
    assert started > 0
    process = _cli_process(_run_blockwise_args("slow", "--seconds", "0.3"), tmp_path)
    output, _ = process.communicate(timeout=300)
    assert process.returncode == 0 and "workers: all 16 blocks done by an earlier run" in output
    assert len(list(logs.glob("worker_*.err"))) == started  # no worker started for nothing


def test_worker_options_are_spelled_alike_and_old_spellings_warn(options, tmp_path):
    (tmp_path / "workers.py").write_text(_WORKERS)
    args = _run_blockwise_args("old", "--seconds", "0")
    old = ["-w" if a == "-wf" else a for a in args]
    old[old.index("-nw") + 1] = "1"
    result = _invoke(*old)
    assert result.exit_code == 0, result.output
    assert "Warning: -w is deprecated in dacapo run-blockwise: use -wf/--worker-file" \
        in result.output, result.output

    for command in ("predict", "apply"):
        # -w is still the number of workers there (0 is refused as -nw 0 is)
        result = _invoke(command, "-r", "x", "-ic", str(tmp_path), "-id", "raw", "-op", "o",
                         "-w", "0")
        assert result.exit_code == 2 and "0 is not in the range x>=1" in result.output, \
            result.output
        assert f"Warning: -w is deprecated in dacapo {command}: use -nw/--num-workers" \
            in result.output
        result = _invoke(command, "-r", "x", "-ic", str(tmp_path), "-id", "raw", "-op", "o",
                         "-w", "2", "-nw", "2")
        assert result.exit_code == 2 and "give -nw/--num-workers only" in result.output

    # the dtypes differ on purpose, and the help says why
    predict_help = " ".join(_invoke("predict", "--help").output.split())
    apply_help = " ".join(_invoke("apply", "--help").output.split())
    assert "[default: float32]" in predict_help and "apply stores its intermediate" in predict_help
    assert "[default: uint8]" in apply_help and "predict keeps float32" in apply_help
