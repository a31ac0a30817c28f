"""examples/blockwise_apply in its small mode: a killed two-worker `dacapo apply` resumes,
keeping the blocks done before the kill and computing only the others."""

from __future__ import annotations

import pytest
from funlib.geometry import Roi

from dacapo.utils.arrays import open_array
from dacapo.store.array_store import LocalArrayIdentifier

pytestmark = pytest.mark.slow


def test_small_blockwise_apply_resumes(options, tmp_path, example):
    result = example("blockwise_apply/apply_blockwise.py").main(["--small", "--runs-base-dir", str(tmp_path / "example"), "--kill-after", "3"])

    counts = result["counts"]
    prediction = next(c for name, c in counts.items() if name.startswith("prediction_"))
    assert prediction["blocks"] == 27  # 3 x 3 x 3 output blocks of 36³ voxels
    assert 3 <= prediction["kept"] < 27, "the kill came too late to show resuming"
    assert prediction["computed_by_rerun"] == 27 - prediction["kept"]
    output = open_array(LocalArrayIdentifier(result["output"].parent, result["output"].name))
    # the 96³ input less the model's context (8 voxels a side), 8 nm voxels
    assert output.roi == Roi((64, 64, 64), (640, 640, 640))
    assert 0.0 <= result["dice"] <= 1.0
