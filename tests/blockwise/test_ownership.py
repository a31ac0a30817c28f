"""Output ownership and locks (``dacapo.blockwise.ownership``): which existing arrays a job may
replace, outputs overlapping inputs, and locks that a killed holder never leaves behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import zarr
from funlib.geometry import Coordinate, Roi

from dacapo.blockwise import Bookkeeping
from dacapo.blockwise.arrays import prepare_output
from dacapo.blockwise.ownership import (
    OutputBusy,
    OutputRefused,
    check_output,
    is_owned,
    locked,
    owner_record,
    wait_for_orphan_workers,
)
from dacapo.store.array_store import LocalArrayIdentifier

ROI = Roi((0, 0), (32, 32))
VOXEL = Coordinate(4, 4)
BLOCK = Coordinate(16, 16)


def _prepare(identifier, job, **kwargs):
    kwargs = {"resume": False, "overwrite": False, **kwargs}
    return prepare_output(identifier, ROI, VOXEL, None, np.uint8, BLOCK, job=job, **kwargs)


@pytest.fixture
def container(tmp_path):
    root = zarr.open_group(str(tmp_path / "data.zarr"), mode="w")
    root.create_dataset("raw", data=np.arange(64, dtype=np.uint8).reshape(8, 8))
    root.create_group("group").create_dataset("labels", data=np.ones((8, 8), dtype=np.uint64))
    return tmp_path / "data.zarr"


def _files(root: Path) -> dict:
    return {p: p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and ".blockwise" not in p.parts}


def test_outputs_overlapping_inputs_or_foreign_data_are_refused(container):
    before = _files(container)
    raw = LocalArrayIdentifier(container, "raw")
    for dataset, relation in (("raw", "is the input"), ("raw/pred", "is inside the input"),
                              ("group", "contains the input")):
        inputs = [raw, container / "group" / "labels"]
        with pytest.raises(OutputRefused, match=relation) as error:
            check_output(LocalArrayIdentifier(container, dataset), inputs, same_job=False, overwrite=True)
        assert "\n" not in str(error.value) and str(container / dataset) in str(error.value)
    # a sibling of the input in its container is a normal output
    check_output(LocalArrayIdentifier(container, "prediction"), [raw], same_job=False, overwrite=False)
    # foreign data, a group, a path inside an array: refused even with overwrite
    for dataset, message in (("raw", "not written by DaCapo"), ("group", "not written by DaCapo"),
                             ("group/labels/x", "inside the existing array")):
        with pytest.raises(OutputRefused, match=message):
            check_output(LocalArrayIdentifier(container, dataset), [], same_job=True, overwrite=True)
        with pytest.raises(OutputRefused, match=message):  # and prepare_output never deletes it
            _prepare(LocalArrayIdentifier(container, dataset), {"type": "T"}, overwrite=True)
    assert _files(container) == before


def test_only_arrays_dacapo_created_are_replaced_and_only_by_their_job_or_with_overwrite(tmp_path):
    output = LocalArrayIdentifier(tmp_path / "out.zarr", "pred")
    first = {"type": "PredictTask", "run": "a", "iteration": 1}
    assert _prepare(output, first) is False
    assert is_owned(output)
    record = Bookkeeping.for_array(output.container, output.dataset).path("owner.json")
    assert '"run": "a"' in record.read_text()

    check_output(output, [], same_job=True, overwrite=False)  # its own job resumes
    with pytest.raises(OutputRefused, match="another DaCapo job \\(type PredictTask, run a, iteration 1\\).*overwrite"):
        check_output(output, [], same_job=False, overwrite=False)
    check_output(output, [], same_job=False, overwrite=True)
    assert _prepare(output, {"type": "PredictTask", "run": "b"}, overwrite=True) is False
    assert is_owned(output) and '"run": "b"' in record.read_text()

    # a new job's bookkeeping keeps the owner record and the lock it holds
    book = Bookkeeping.for_array(output.container, output.dataset)
    with locked([book.directory], {}):
        book.start({"job": 2})
        assert is_owned(output)
        with pytest.raises(OutputBusy):
            with locked([book.directory], {}):
                pass

    # an array put in its place by hand (same path, no token) is foreign again
    zarr.open_array(str(tmp_path / "out.zarr" / "pred"), mode="w", shape=(8, 8), dtype=np.uint8)
    assert not is_owned(output)
    with pytest.raises(OutputRefused, match="not written by DaCapo"):
        check_output(output, [], same_job=True, overwrite=True)


HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from dacapo.blockwise.ownership import locked, worker_lock
    directory = Path(sys.argv[1])
    with (worker_lock(directory) if sys.argv[2] == "worker" else locked([directory], {})):
        print("held", flush=True)
        time.sleep(600)
""")


def _holder(directory: Path, kind: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    process = subprocess.Popen([sys.executable, "-c", HOLDER, str(directory), kind], env=env,
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "held"
    return process


def test_a_lock_refuses_a_second_job_and_dies_with_its_holder(tmp_path):
    directory = tmp_path / "out.zarr" / ".blockwise" / "pred"
    holder = _holder(directory, "job")
    try:
        with pytest.raises(OutputBusy, match=f"being written by another DaCapo job \\(pid {holder.pid} "):
            with locked([directory], {directory: "out.zarr/pred"}):
                pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    with locked([directory], {}):  # a killed holder leaves no lock behind
        pass


def test_a_new_job_waits_for_workers_of_a_killed_job(tmp_path):
    directory = tmp_path / "out.zarr" / ".blockwise" / "pred"
    worker = _holder(directory, "worker")
    try:
        started = time.monotonic()
        with pytest.raises(OutputBusy, match="worker processes of an earlier, stopped job"):
            wait_for_orphan_workers([directory], timeout=0.3)
        assert time.monotonic() - started >= 0.3
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    wait_for_orphan_workers([directory], timeout=0)


def test_array_inputs_of_a_config_tree_guard_validation_outputs(tmp_path):
    from dacapo.blockwise.ownership import array_inputs, check_placement
    from dacapo.experiments.datasplits.datasets.arrays import IntensitiesArrayConfig, ZarrArrayConfig

    raw = ZarrArrayConfig(name="raw", file_name=tmp_path / "runs.zarr", dataset="/inputs/raw")
    config = IntensitiesArrayConfig(name="normalised", source_array_config=raw, min=0, max=255)
    assert array_inputs(config) == [tmp_path / "runs.zarr" / "inputs/raw"]
    with pytest.raises(OutputRefused, match="contains the input"):
        check_placement(LocalArrayIdentifier(tmp_path / "runs.zarr", "inputs"), array_inputs([config]))
    check_placement(LocalArrayIdentifier(tmp_path / "runs.zarr", "2/val/prediction"), array_inputs(config))


def _touch_block(block, **parameters):
    """A worker writing nothing (the job's output array is what the test looks at)."""


def test_run_and_segment_blockwise_refuse_inputs_foreign_arrays_and_other_jobs(tmp_path):
    from dacapo.blockwise import run_blockwise, segment_blockwise
    from dacapo.compute_context import LocalTorch
    from dacapo.utils.synthetic import write_cells

    data = write_cells(tmp_path / "data.zarr", (16, 16, 16), voxel_size=(4, 4, 4), num_objects=3)
    before = _files(data.container)
    roi, block = Roi((0, 0, 0), (64, 64, 64)), Roi((0, 0, 0), (32, 32, 32))
    common = dict(compute_context=LocalTorch(device="cpu"), progress=False)

    def run(dataset, container=data.container, **kwargs):
        return run_blockwise(_touch_block, roi, block, block, output_dtype="uint8",
                             input_container=str(data.container), input_dataset="raw",
                             output_container=str(container), output_dataset=dataset,
                             **common, **kwargs)

    with pytest.raises(OutputRefused, match="is the input"):
        run("raw")
    with pytest.raises(OutputRefused, match="not written by DaCapo"):
        run("labels", overwrite=True)
    for dataset, message in (("raw", "is the input"), ("labels", "not written by DaCapo")):
        with pytest.raises(OutputRefused, match=message):
            segment_blockwise("dacapo.blockwise.watershed_function", Coordinate(0, 0, 0), roi, None,
                              block, input_array_identifier=(data.container, "raw"),
                              output_array_identifier=(data.container, dataset), overwrite=True,
                              **common)
    assert _files(data.container) == before

    # a bookkeeping directory of the user's (a new job clears it) is refused, its files kept
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "thesis.tex").write_text("years of work")
    with pytest.raises(OutputRefused, match="holds files that DaCapo did not write"):
        run_blockwise(_touch_block, roi, block, block, bookkeeping=notes, **common)
    assert (notes / "thesis.tex").read_text() == "years of work"

    out = tmp_path / "out.zarr"
    assert run("filled", out, threshold=1)
    assert run("filled", out, threshold=1)  # the same job: resumed (nothing to do)
    with pytest.raises(OutputRefused, match="another DaCapo job"):
        run("filled", out, threshold=2)
    assert run("filled", out, threshold=2, overwrite=True)
    assert "threshold', 2" in json.dumps(owner_record(LocalArrayIdentifier(out, "filled")))


def test_a_filesystem_without_locks_warns_and_runs(tmp_path, monkeypatch, caplog):
    import errno
    import fcntl

    def no_locks(fd, operation):
        raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))

    monkeypatch.setattr(fcntl, "flock", no_locks)  # (as on a mount without flock support)
    directory = tmp_path / "out.zarr" / ".blockwise" / "pred"
    with locked([directory], {}):
        wait_for_orphan_workers([directory], timeout=0)
    assert "cannot lock" in caplog.text and "not detected" in caplog.text
