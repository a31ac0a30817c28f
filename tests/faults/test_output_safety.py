"""Blockwise outputs never destroy data: ``-op`` naming an input, ground truth, a foreign array or
a path inside the input is refused with one line and every stored byte is kept; a second job into
an output that another job is writing is refused and the first job's result is that of a single
run; kills of ``dacapo apply`` (2 workers) while predicting and while post-processing resume to
bit-identical outputs."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np
import pytest
import zarr

from dacapo.blockwise import Bookkeeping
from dacapo.utils.synthetic import write_cells

from .integrity import array_digest, file_digests
from .processes import CliProcess, run_cli
from .test_resume_outputs import ITERATION, RUN, trained  # noqa: F401 (a module fixture)

pytestmark = pytest.mark.slow

ROI = "[64:640,64:640,64:640]"  # 8 blocks of the tiny UNet
APPLY_ROI = "[64:640,64:640,64:352]"  # 4 blocks


def predict_command(data, output, *extra):
    return ["predict", "-r", RUN, "-i", str(ITERATION), "-ic", str(data.container), "-id", "raw",
            "-op", str(output), "-roi", ROI, *extra]


def refused(process: CliProcess, *fragments: str) -> str:
    """The one error line of a refused command (which must name ``fragments``)."""
    assert process.process.exitcode == 1, process.output[-3000:]
    lines = process.error_lines()
    assert len(lines) == 1, process.output[-3000:]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def data(tmp_path):
    return write_cells(tmp_path / "input.zarr", (96, 96, 96), voxel_size=(8, 8, 8), seed=7,
                       num_objects=10)


def test_outputs_onto_existing_data_are_refused(trained, data, tmp_path, tally):
    _, cli_env = trained
    foreign = zarr.open_group(str(tmp_path / "foreign.zarr"), mode="w")
    foreign.create_dataset("data", data=np.arange(512, dtype=np.uint16).reshape(8, 8, 8))
    before = file_digests(data.container, tmp_path / "foreign.zarr")
    raw = data.container / "raw"
    cases = {
        "the raw input": (predict_command(data, raw), ["is the input", str(raw)]),
        "inside the raw input": (predict_command(data, raw / "prediction"), ["is inside the input"]),
        "ground truth": (predict_command(data, data.container / "labels"),
                         ["was not written by DaCapo", str(data.container / "labels")]),
        "ground truth, with --overwrite": (predict_command(data, data.container / "labels", "--overwrite"),
                                           ["not even with overwrite"]),
        "a foreign array": (predict_command(data, tmp_path / "foreign.zarr" / "data", "-ow"),
                            ["was not written by DaCapo", "foreign.zarr/data"]),
        "apply onto ground truth": (
            ["apply", "-r", RUN, "-i", str(ITERATION), "-p", "threshold=0.5", "-ic",
             str(data.container), "-id", "raw", "-op", str(data.container / "labels"), "-roi", ROI],
            ["was not written by DaCapo"]),
    }
    for name, (argv, fragments) in cases.items():
        process = run_cli(argv, cli_env, tmp_path / f"{name}.log")
        refused(process, *fragments)
        tally.bad_input(f"output onto {name}")
    after = file_digests(data.container, tmp_path / "foreign.zarr")
    assert not tally.preserved("files of inputs, ground truth and foreign arrays", before, after)
    assert not (data.container / ".blockwise").exists(), "a refused job left bookkeeping behind"
    tally.checked("refused outputs: every stored byte kept", len(cases))


def _stopped(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "T"
    except OSError:
        return False


def test_a_second_job_into_an_output_being_written_is_refused(trained, data, tmp_path, tally):
    _, cli_env = trained
    out = tmp_path / "out.zarr"
    reference = run_cli(predict_command(data, out / "reference"), cli_env, tmp_path / "reference.log")
    assert reference.process.exitcode == 0, reference.output[-3000:]
    expected = {"shared": array_digest(out / "reference")}

    # the first job stops itself (SIGSTOP) after writing its second block, lock held
    first = CliProcess(predict_command(data, out / "shared"),
                       {**cli_env, "DACAPO_FAULT_INJECT": "blockwise.marker:stop@2"},
                       tmp_path / "first.log")
    first.wait_until(lambda: _stopped(first.pid))
    tally.fault("predict:stopped mid-job")
    try:
        for name, extra in (("another job", ("-dt", "uint8")), ("the same job", ())):
            second = run_cli(predict_command(data, out / "shared", *extra), cli_env,
                             tmp_path / f"second {name}.log")
            refused(second, "is being written by another DaCapo job", str(out / "shared"),
                    f"pid {first.pid}")
            tally.bad_input(f"concurrent predict: {name}")
    finally:
        os.kill(first.pid, signal.SIGCONT)
    assert first.wait() == 0, first.output[-3000:]
    assert not tally.preserved("the first job's output", expected, {"shared": array_digest(out / "shared")})
    markers = Bookkeeping.for_array(out, "shared").done()
    assert len(markers) == 8 and len({m["run"] for m in markers.values()}) == 1
    tally.checked("the first job's output equals a single run's")

    # finished: a different job is refused without --overwrite, and the output kept
    later = run_cli(predict_command(data, out / "shared", "-dt", "uint8"), cli_env, tmp_path / "later.log")
    refused(later, "holds the result of another DaCapo job", "run " + RUN, "--overwrite")
    tally.bad_input("a different job into a finished output")
    assert not tally.preserved("a finished output after a refused job", expected,
                               {"shared": array_digest(out / "shared")})
    tally.checked("a refused job kept the finished output")


def apply_command(data, output, workers: int = 2):
    return ["apply", "-r", RUN, "-i", str(ITERATION), "-p", "threshold=0.5", "-ic",
            str(data.container), "-id", "raw", "-op", str(output), "-roi", APPLY_ROI, "-nw", str(workers)]


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_apply_with_two_workers_killed_while_predicting_and_post_processing(
        trained, data, tmp_path, tally):
    """The scheduler is killed once a prediction block is done (its workers finish their block
    and exit), then while both post-processing workers are stopped after writing their second
    block (the whole job killed); the rerun waits for the workers of the killed job, computes
    the missing blocks only and gives what an uninterrupted apply gives."""
    _, cli_env = trained
    prediction, output = f"prediction_{RUN}_{ITERATION}", f"output_{RUN}_{ITERATION}_threshold_0.5"
    reference = run_cli(apply_command(data, tmp_path / "reference.zarr"), cli_env,
                        tmp_path / "reference.log")
    assert reference.process.exitcode == 0, reference.output[-3000:]
    expected = {name: array_digest(tmp_path / "reference.zarr" / name) for name in (prediction, output)}

    container = tmp_path / "killed.zarr"
    books = {name: Bookkeeping.for_array(container, name) for name in (prediction, output)}
    process = CliProcess(apply_command(data, container), cli_env, tmp_path / "predicting.log")
    process.wait_until(lambda: books[prediction].done_indices(), timeout=300)
    assert process.kill() == -9, process.output[-3000:]  # the scheduler; its workers live on
    tally.kill("apply (2 workers): scheduler while predicting")
    assert len(books[prediction].done_indices()) < 4, "killed too late: prediction was complete"

    env = {**cli_env, "DACAPO_FAULT_INJECT": "blockwise.marker.post_process:stop@2"}
    process = CliProcess(apply_command(data, container), env, tmp_path / "post-processing.log")
    stopped = lambda: [p for p in _children(process.pid) if _stopped(p)]  # noqa: E731
    process.wait_until(lambda: len(stopped()) == 2, timeout=300)
    workers = stopped()
    assert process.kill() == -9, process.output[-3000:]
    for worker in workers:
        os.kill(worker, signal.SIGKILL)
    tally.kill("apply (2 workers): scheduler while post-processing")
    tally.add("kills", "apply (2 workers): post-processing worker", len(workers))
    assert len(books[output].done_indices()) == 2  # each worker's first block
    done_before = {name: book.done() for name, book in books.items()}

    final = run_cli(apply_command(data, container), cli_env, tmp_path / "final.log")
    assert final.process.exitcode == 0, final.output[-3000:]
    found = {name: array_digest(container / name) for name in expected}
    assert not tally.preserved("apply outputs after kills", expected, found)
    for name, book in books.items():  # the rerun kept the done blocks, computed the others
        markers = book.done()
        assert len(markers) == 4
        assert all(markers[index] == record for index, record in done_before[name].items())
        assert len({markers[i]["run"] for i in set(markers) - set(done_before[name])}) <= 1
    tally.checked("apply killed twice equals an uninterrupted apply", 2)
