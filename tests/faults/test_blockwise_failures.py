"""A worker raising on a block: the block is retried (daisy's ``max_retries``); a block that
keeps failing is reported by its id and grid index, every other block is completed and recorded,
and a rerun with a fixed worker computes only the failed block."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from funlib.geometry import Coordinate, Roi
from funlib.persistence import open_ds

from dacapo.blockwise import Bookkeeping, run_blockwise
from dacapo.blockwise.runner import BlockwiseError
from dacapo.compute_context import LocalTorch

VOXEL = Coordinate(4, 4, 4)
BLOCK = Roi((0, 0, 0), (32, 32, 32))
TOTAL = Roi((0, 0, 0), (96, 64, 64))  # 3 x 2 x 2 blocks
FLAKY = (1, 0, 1)  # fails on its first attempt
BROKEN = (2, 1, 0)  # fails on every attempt


def _index(block) -> tuple:
    return tuple(int(o) // int(s) for o, s in zip(block.write_roi.offset, BLOCK.shape))


def _fill(block, output_container, output_dataset, attempts):
    index = _index(block)
    path = Path(attempts)
    with open(path, "a") as f:
        f.write(json.dumps(index) + "\n")
    tries = sum(1 for line in path.read_text().splitlines() if tuple(json.loads(line)) == index)
    if index == FLAKY and tries == 1:
        raise RuntimeError(f"flaky failure of block {index}")
    if index == BROKEN and not path.with_suffix(".fixed").exists():
        raise ValueError(f"block {index} cannot be processed")
    array = open_ds(str(Path(output_container) / output_dataset), mode="r+")
    array[block.write_roi] = np.full(block.write_roi.shape / VOXEL, 1 + sum(index), dtype=np.int32)


@pytest.mark.parametrize("num_workers", [1, pytest.param(2, marks=pytest.mark.slow)],
                         ids=["in-process", "2-worker-processes"])
def test_failing_blocks_are_retried_and_reported(tmp_path, tally, num_workers):
    attempts = tmp_path / "attempts.jsonl"
    kwargs = dict(
        compute_context=LocalTorch(device="cpu"), num_workers=num_workers, progress=False,
        output_dtype="int32",
        voxel_size=VOXEL, max_retries=2, output_container=str(tmp_path / "out.zarr"),
        output_dataset="filled", attempts=str(attempts),
    )
    with pytest.raises(BlockwiseError) as error:
        run_blockwise(_fill, TOTAL, BLOCK, BLOCK, **kwargs)
    message = str(error.value)
    tally.fault("blockwise:worker raises")
    assert "\n" not in message
    assert "1 of 12 blocks failed" in message, message
    assert "unfinished blocks (grid index, write ROI): 2_1_0 [64:96, 32:64, 0:32]" in message, message
    assert "cannot be processed" in message

    tries = [tuple(json.loads(line)) for line in attempts.read_text().splitlines()]
    assert tries.count(FLAKY) == 2, "the flaky block was not retried"
    assert tries.count(BROKEN) == 3, "the broken block was not tried 1 + max_retries times"
    done = Bookkeeping.for_array(tmp_path / "out.zarr", "filled").done_indices()
    grid = {(i, j, k) for i in range(3) for j in range(2) for k in range(2)}
    assert done == grid - {BROKEN}
    output = open_ds(str(tmp_path / "out.zarr/filled"))
    for index in grid - {BROKEN}:
        roi = Roi(Coordinate(index) * BLOCK.shape, BLOCK.shape)
        assert (output[roi] == 1 + sum(index)).all(), index
    tally.checked("other blocks completed despite a failing block")

    # the cause fixed (the same job): a rerun computes the broken block only
    attempts.write_text("")
    attempts.with_suffix(".fixed").touch()
    assert run_blockwise(_fill, TOTAL, BLOCK, BLOCK, **kwargs) is True
    assert [tuple(json.loads(line)) for line in attempts.read_text().splitlines()] == [BROKEN]
    assert (output[Roi(Coordinate(BROKEN) * BLOCK.shape, BLOCK.shape)] == 1 + sum(BROKEN)).all()
    tally.checked("rerun completed only the failed block")
