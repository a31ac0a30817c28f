"""Blockwise prediction: equal to one forward pass over the whole output ROI (valid padding;
the eval output block, 36^3, is a multiple of the UNet's downsampling, 2), with the model built
once per worker; output metadata; integer storage; resuming."""

import numpy as np
import pytest
from funlib.geometry import Coordinate
from funlib.persistence import open_ds

from dacapo.blockwise import Bookkeeping, decode
from dacapo.blockwise.predict_task import input_array_config, load_run
from dacapo.compute_context import LocalTorch
from dacapo.predict import predict
from dacapo.predict_local import BlockPredictor

from .conftest import ITERATIONS, OUTPUT_ROI, RUN_NAME

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def single_pass(trained_run):
    """The prediction of OUTPUT_ROI by one forward pass (input 88^3 → output 72^3)."""
    config, data = trained_run
    bundle = load_run(config, ITERATIONS)
    raw = input_array_config(config, data.container, "raw").array("r")
    engine = BlockPredictor(
        bundle.model, raw, device="cpu", input_shape=Coordinate(88, 88, 88),
        raw_transform=bundle.inference_transform,
    )
    assert engine.output_size == OUTPUT_ROI.shape
    ((roi, prediction),) = list(engine.predict_iter([OUTPUT_ROI]))
    assert roi == OUTPUT_ROI
    return prediction


@pytest.mark.parametrize("num_workers", [1, 2])
def test_blockwise_equals_single_pass(trained_run, single_pass, blockwise_env, num_workers):
    config, data = trained_run
    output = predict(
        RUN_NAME, ITERATIONS, data.container, "raw", blockwise_env / f"predict{num_workers}",
        output_roi=OUTPUT_ROI, num_workers=num_workers,
        compute_context=LocalTorch(device="cpu"), progress=False,
    )
    assert output.container == blockwise_env / f"predict{num_workers}" / "input.zarr"
    assert output.dataset == f"prediction_{RUN_NAME}_{ITERATIONS}"
    array = open_ds(str(output.container / output.dataset))
    assert array.roi == OUTPUT_ROI
    assert array.voxel_size == Coordinate(8, 8, 8)
    assert array.axis_names == ["c^", "z", "y", "x"]
    assert array.dtype == np.float32
    assert array._source_data.chunks == (1, 36, 36, 36)  # one block per chunk
    assert array._source_data.attrs["channel_names"] == ["cell"]
    blockwise = array[array.roi]
    # the same arithmetic up to float rounding (convolutions of different sizes sum in a
    # different order): ~1e-6 here
    np.testing.assert_allclose(blockwise, single_pass, rtol=0, atol=1e-5)
    book = Bookkeeping.for_array(output.container, output.dataset)
    records = book.done()
    assert len(records) == 8
    workers = {(r["host"], r["pid"]) for r in records.values()}
    # in process (1 worker) or 2 worker processes, each with its model resident
    assert len(workers) <= num_workers
    if num_workers == 1:
        import os

        assert workers == {(records[(0, 0, 0)]["host"], os.getpid())}


def test_uint8_output_and_resume(trained_run, single_pass, blockwise_env):
    config, data = trained_run
    kwargs = dict(output_roi="[64:640, 64:640, 64:640]", output_dtype=np.uint8,
                  compute_context=LocalTorch(device="cpu"), progress=False)
    output = predict(RUN_NAME, ITERATIONS, data.container, "raw",
                     blockwise_env / "uint8.zarr/pred", **kwargs)
    assert (output.container, output.dataset) == (blockwise_env / "uint8.zarr", "pred")
    array = open_ds(str(output.container / output.dataset))
    attributes = dict(array._source_data.attrs)
    assert array.dtype == np.uint8
    assert attributes["value_range"] == [-1.0, 1.0]
    stored = array[array.roi]
    # tanh range [-1, 1] → round(127 x) + 127: 0 ↔ 127 exactly, ±1 ↔ 0 / 254
    expected = np.round(np.clip(single_pass, -1, 1) * 127) + 127
    assert np.abs(stored.astype(int) - expected).max() <= 1  # (float rounding at .5)
    np.testing.assert_allclose(decode(stored, attributes), np.clip(single_pass, -1, 1), atol=0.5 / 127 + 1e-5)

    # a rerun of the same job computes nothing; a different job replaces the output
    book = Bookkeeping.for_array(output.container, output.dataset)
    first = book.done()
    predict(RUN_NAME, ITERATIONS, data.container, "raw", blockwise_env / "uint8.zarr/pred", **kwargs)
    assert book.done() == first
    with pytest.raises(FileExistsError):
        predict(RUN_NAME, ITERATIONS, data.container, "raw", blockwise_env / "uint8.zarr/pred",
                **{**kwargs, "output_dtype": np.float32}, overwrite=False)
    predict(RUN_NAME, ITERATIONS, data.container, "raw", blockwise_env / "uint8.zarr/pred",
            **{**kwargs, "output_dtype": np.float32}, overwrite=True)
    array = open_ds(str(output.container / output.dataset))
    assert array.dtype == np.float32
    assert {r["run"] for r in book.done().values()}.isdisjoint({r["run"] for r in first.values()})
    np.testing.assert_allclose(array[array.roi], single_pass, rtol=0, atol=1e-5)
