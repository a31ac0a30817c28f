"""examples/isbi2012/affinities_isbi2012.py in its quick mode (96 x 96 crops of the real ISBI 2012
sections, one training iteration): it trains, validates over the sweep with named scores and
baselines, applies blockwise to the held-out sections over their whole ROI and scores them."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from funlib.persistence import open_ds

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO.parent / "shared" / "data" / "isbi2012"


@pytest.mark.skipif(not SOURCE.is_dir(), reason="ISBI 2012 data not present")
def test_quick_isbi_affinities(options, tmp_path, example):
    results = example("isbi2012/affinities_isbi2012.py").main(["--iterations", "1", "--size", "96", "--num-fmaps", "4",
                            "--source", str(SOURCE), "--output", str(tmp_path / "out")])

    # in-plane offsets 1, 3 and 9, as on real neuron data
    assert sorted({max(map(abs, offset)) for offset in results["neighborhood"]}) == [1, 3, 9]
    validation = results["validation"]
    assert {row["criterion"] for row in validation} >= {"voi", "voi_split", "adapted_rand_error"}
    assert all(set(row["parameters"]) == {"bias"} for row in validation)
    assert set(results["validation_baselines"]["validate"]) == {"one_segment", "every_voxel"}

    held_out = results["held_out"]
    assert held_out["baseline one_segment"]["voi_split"] == pytest.approx(0, abs=1e-9)
    assert held_out["baseline one_segment"]["segments"] == 1
    assert held_out["baseline every_voxel"]["voi_merge"] == pytest.approx(0, abs=1e-9)
    # on real EM a plain watershed of raw is far better than merging everything
    assert (held_out["plain watershed of raw (skimage)"]["adapted_rand_error"]
            < held_out["baseline one_segment"]["adapted_rand_error"] - 0.3)
    assert all(math.isfinite(row["voi"]) for row in held_out.values())
    # full size: the segmentation covers the held-out sections' whole ROI
    out = tmp_path / "out"
    labels = open_ds(str(out / "isbi2012_test.zarr" / "labels"))
    (dataset,) = [p.name for p in (out / "test_output.zarr").iterdir() if p.name.startswith("output_")]
    assert open_ds(str(out / "test_output.zarr" / dataset)).roi == labels.roi
