"""apply: best weights and parameters from validation, prediction and post-processing as two
chained daisy tasks, and resuming a killed ``dacapo apply``."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from funlib.persistence import open_ds

from dacapo.apply import apply, best_parameters, parse_parameters
from dacapo.blockwise import Bookkeeping, decode
from dacapo.blockwise.predict_task import ModelBundle
from dacapo.compute_context import LocalTorch

from .conftest import ITERATIONS, OUTPUT_ROI, RUN_NAME

pytestmark = pytest.mark.slow


def test_apply_uses_the_best_iteration_and_parameters(trained_run, blockwise_env):
    config, data = trained_run
    bundle = ModelBundle(config)
    best = best_parameters(bundle, ITERATIONS, "val", "best")
    assert best is not None
    output = apply(
        RUN_NAME, data.container, "raw", blockwise_env / "apply", roi=OUTPUT_ROI,
        compute_context=LocalTorch(device="cpu"), progress=False,
    )
    assert output.container == blockwise_env / "apply" / "input.zarr"
    assert output.dataset == f"output_{RUN_NAME}_{ITERATIONS}_{best}"
    result = open_ds(str(output.container / output.dataset))
    prediction = open_ds(str(output.container / f"prediction_{RUN_NAME}_{ITERATIONS}"))
    assert prediction.dtype == np.uint8 and result.dtype == np.uint8
    assert result.roi == prediction.roi == OUTPUT_ROI
    # the post-processor ran on the decoded prediction (tanh units), not on uint8 values
    decoded = decode(prediction[prediction.roi], dict(prediction._source_data.attrs))
    expected = bundle.task.post_processor.process(best, decoded)
    assert np.array_equal(result[result.roi], expected)

    # explicit parameters, in any of their spellings
    post_processor = bundle.task.post_processor
    sweep = list(post_processor.enumerate_parameters())
    for spelling in ("threshold=0.25", "threshold_0.25", 0.25, "0.25",
                     "ThresholdPostProcessorParameters(threshold=0.25)"):
        chosen = parse_parameters(post_processor, spelling if not isinstance(spelling, float) else str(spelling))
        assert chosen.threshold == 0.25 and chosen in sweep
    assert parse_parameters(post_processor, "3") == sweep[3]
    with pytest.raises(ValueError, match="no validation dataset .no_such_dataset.; known: val"):
        apply(RUN_NAME, data.container, "raw", blockwise_env / "apply", criterion="cell__dice",
              validation_dataset="no_such_dataset", progress=False)


def _apply_command(data, output_path):
    return [
        sys.executable, "-m", "dacapo.cli", "apply", "-r", RUN_NAME,
        "-ic", str(data.container), "-id", "raw", "-op", str(output_path),
        # 3 x 2 x 2 blocks (z reaches past the input, which reads as zeros)
        "-roi", "[64:928, 64:640, 64:640]",
    ]


def test_killed_apply_resumes(trained_run, blockwise_env):
    config, data = trained_run
    output_path = blockwise_env / "killed"
    container = output_path / "input.zarr"
    prediction = f"prediction_{RUN_NAME}_{ITERATIONS}"
    predictions = Bookkeeping.for_array(container, prediction)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))

    process = subprocess.Popen(
        _apply_command(data, output_path), env=env, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    deadline = time.time() + 240
    while len(predictions.done_indices()) < 3:
        if process.poll() is not None:
            pytest.fail("dacapo apply ended before it could be killed:\n" + process.stdout.read().decode())
        assert time.time() < deadline, "dacapo apply made no progress"
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)  # the whole job, workers included
    process.wait()
    outputs = next(
        Bookkeeping.for_array(container, p.name) for p in (container / ".blockwise").iterdir()
        if p.name.startswith("output_")
    )
    before = {"prediction": predictions.done(), "output": outputs.done()}
    all_blocks = {(z, y, x) for z in range(3) for y in range(2) for x in range(2)}
    assert 3 <= len(before["prediction"]) < len(all_blocks), "killed too late to test resuming"

    rerun = subprocess.run(_apply_command(data, output_path), env=env, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    for name, book in (("prediction", predictions), ("output", outputs)):
        after = book.done()
        assert set(after) == all_blocks
        # blocks done before the kill were kept (same marker), the others computed by the rerun
        for index, record in before[name].items():
            assert after[index] == record
        first_runs = {record["run"] for record in before[name].values()}
        computed = {index for index, record in after.items() if record["run"] not in first_runs}
        assert computed == all_blocks - set(before[name])
        assert len({after[i]["run"] for i in computed}) <= 1

    # identical to an uninterrupted run
    reference = subprocess.run(
        _apply_command(data, blockwise_env / "uninterrupted"), env=env, capture_output=True, text=True
    )
    assert reference.returncode == 0, reference.stdout + reference.stderr
    for dataset in (prediction, outputs.directory.name):
        a = open_ds(str(container / dataset))
        b = open_ds(str(blockwise_env / "uninterrupted" / "input.zarr" / dataset))
        assert a.roi == b.roi and a.dtype == b.dtype
        assert np.array_equal(a[a.roi], b[b.roi]), dataset
    assert json.loads((predictions.directory / "job.json").read_text())["fingerprint"]["run"] == RUN_NAME
