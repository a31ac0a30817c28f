"""Borders: ``--full-size`` predicts the whole input ROI, the context beyond the input mirrored
(``--padding reflect``); blockwise (1 and 2 workers) it equals one forward pass over the raw
padded with ``numpy.pad(mode="reflect")``."""

import numpy as np
import pytest
from click.testing import CliRunner
from funlib.geometry import Coordinate, Roi
from funlib.persistence import open_ds

from dacapo.blockwise.predict_task import input_array_config, load_run
from dacapo.cli import cli
from dacapo.compute_context import LocalTorch
from dacapo.predict import predict
from dacapo.predict_local import BlockPredictor
from dacapo.utils.synthetic import write_array, write_cells

from .conftest import ITERATIONS, RUN_NAME

pytestmark = pytest.mark.slow

SIZE = 56  # input voxels per axis (8 nm): 2 x 2 x 2 eval blocks of 36^3, the last ones cropped
INPUT_ROI = Roi((0, 0, 0), (SIZE * 8,) * 3)
CONTEXT = 8  # voxels on each side (eval input 52^3 -> output 36^3)


@pytest.fixture(scope="module")
def small_input(blockwise_env):
    return write_cells(blockwise_env / "small_input.zarr", (SIZE,) * 3, voxel_size=(8, 8, 8),
                       seed=3, num_objects=5)


@pytest.fixture(scope="module")
def reflected_single_pass(trained_run, blockwise_env, small_input):
    """One forward pass over the whole input, numpy-reflect-padded by the context (72^3 -> 56^3)."""
    config, _ = trained_run
    data = small_input
    padded = np.pad(data.raw, CONTEXT, mode="reflect")
    container = blockwise_env / "reflected.zarr"
    write_array(container, "raw", padded, data.voxel_size, (-CONTEXT * 8,) * 3)
    bundle = load_run(config, ITERATIONS)
    engine = BlockPredictor(
        bundle.model, input_array_config(config, container, "raw").array("r"), device="cpu",
        input_shape=Coordinate((SIZE + 2 * CONTEXT,) * 3), raw_transform=bundle.inference_transform,
    )
    assert engine.output_size == INPUT_ROI.shape
    ((roi, prediction),) = list(engine.predict_iter([INPUT_ROI]))
    return prediction


def test_full_size_reflect_equals_padded_single_pass(small_input, blockwise_env,
                                                     reflected_single_pass):
    """(Each block reads its own mirrored context, so the number of workers does not matter:
    one worker here; test_predict.py covers 1 vs 2 workers.)"""
    data = small_input
    # reflect is the default padding of a full-size output
    output = predict(
        RUN_NAME, ITERATIONS, data.container, "raw", blockwise_env / "full.zarr/pred",
        full_size=True, compute_context=LocalTorch(device="cpu"), progress=False,
    )
    array = open_ds(str(output.container / output.dataset))
    assert array.roi == INPUT_ROI
    np.testing.assert_allclose(array[array.roi], reflected_single_pass, rtol=0, atol=1e-5)

    # the CLI flags; zero padding differs at the border, not inside the valid region
    result = CliRunner().invoke(cli, [
        "predict", "-r", RUN_NAME, "-i", str(ITERATIONS), "-ic", str(data.container),
        "-id", "raw", "-op", str(blockwise_env / "full0.zarr/pred"), "--full-size",
        "--padding", "zero",
    ])
    assert result.exit_code == 0, result.output
    zero = open_ds(str(blockwise_env / "full0.zarr/pred"))
    assert zero.roi == INPUT_ROI
    zero = zero[INPUT_ROI]
    inner = (slice(None),) + (slice(CONTEXT, -CONTEXT),) * 3
    np.testing.assert_allclose(zero[inner], reflected_single_pass[inner], rtol=0, atol=1e-5)
    assert np.abs(zero - reflected_single_pass).max() > 1e-3


@pytest.mark.parametrize("command", ["predict", "apply"])
def test_full_size_and_an_output_roi_conflict(trained_run, blockwise_env, command):
    config, data = trained_run
    roi_flag = "-roi" if command == "predict" else "--roi"
    result = CliRunner().invoke(cli, [
        command, "-r", RUN_NAME, "-ic", str(data.container), "-id", "raw",
        "-op", str(blockwise_env / f"conflict_{command}.zarr"), "--full-size",
        roi_flag, "[0:288,0:288,0:288]",
    ])
    assert result.exit_code == 1
    (line,) = result.output.strip().splitlines()
    assert line.startswith("Error: output_roi=") and "full_size=True: pass one" in line, line
