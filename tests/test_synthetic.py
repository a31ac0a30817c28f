"""The synthetic data generator: determinism, dtypes, a learnable signal, the writers and the
tutorial layout."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from funlib.geometry import Coordinate, Roi

from dacapo.utils.synthetic import (
    CropSpec,
    make_cells,
    write_array,
    write_cells,
    write_tutorial_layout,
)


def _neighbour_pairs(labels):
    """Set of (a, b) label pairs, a < b, that touch across a face."""
    pairs = set()
    for axis in range(labels.ndim):
        a = np.moveaxis(labels, axis, 0)[:-1].ravel()
        b = np.moveaxis(labels, axis, 0)[1:].ravel()
        differ = (a != b) & (a > 0) & (b > 0)
        pairs |= {(int(min(x, y)), int(max(x, y))) for x, y in zip(a[differ], b[differ])}
    return pairs


def test_make_cells_basics():
    raw, labels = make_cells((48, 40, 32), seed=1, num_objects=12)
    assert raw.shape == labels.shape == (48, 40, 32)
    assert raw.dtype == np.uint8 and labels.dtype == np.uint64
    ids = np.unique(labels)
    assert ids[0] == 0 and list(ids[1:]) == list(range(1, len(ids)))  # consecutive
    assert len(ids) - 1 >= 8
    again_raw, again_labels = make_cells((48, 40, 32), seed=1, num_objects=12)
    np.testing.assert_array_equal(raw, again_raw)
    np.testing.assert_array_equal(labels, again_labels)
    other_raw, _ = make_cells((48, 40, 32), seed=2, num_objects=12)
    assert not np.array_equal(raw, other_raw)


def test_touching_and_separated():
    _, touching = make_cells((64, 64, 64), seed=0, num_objects=20, touching=True)
    assert len(_neighbour_pairs(touching)) >= 5
    _, separated = make_cells((64, 64, 64), seed=0, num_objects=20, touching=False)
    assert _neighbour_pairs(separated) == set()
    assert len(np.unique(separated)) > 5


def test_learnable_signal():
    raw, labels = make_cells((64, 64, 64), seed=3, num_objects=15)
    from scipy.ndimage import binary_erosion

    objects = labels > 0
    interior = binary_erosion(objects, iterations=2)
    exterior = binary_erosion(~objects, iterations=2)
    boundary = objects & ~binary_erosion(objects)
    assert raw[interior].mean() > raw[exterior].mean() + 40  # objects brighter
    assert raw[boundary].mean() < raw[interior].mean() - 40  # dark membranes
    # a simple threshold already separates foreground from background well
    accuracy = ((raw > (raw[interior].mean() + raw[exterior].mean()) / 2) == objects).mean()
    assert accuracy > 0.85


def test_2d():
    raw, labels = make_cells((96, 80), seed=0, num_objects=6)
    assert raw.shape == (96, 80) and labels.max() >= 3


def test_speed():
    make_cells((16, 16, 16))  # imports
    start = time.perf_counter()
    make_cells((128, 128, 128), seed=0, num_objects=20)
    elapsed = time.perf_counter() - start
    # 256^3 takes about 1.2 s on an idle 2-core machine, 128^3 about 0.15 s; generous for CI
    assert elapsed < 1.5, elapsed


@pytest.mark.parametrize("suffix", [".zarr", ".n5"])
def test_write_cells_reads_back(tmp_path, suffix):
    from dacapo.experiments.datasplits.datasets.arrays import ZarrArrayConfig

    data = write_cells(
        tmp_path / f"cells{suffix}", (24, 20, 16), voxel_size=(8, 4, 4), offset=(16, 8, 4), num_objects=5
    )
    assert data.roi == Roi((16, 8, 4), (192, 80, 64))
    for dataset, expected in ((data.raw_dataset, data.raw), (data.labels_dataset, data.labels)):
        array = ZarrArrayConfig("a", data.container, dataset).array()
        assert array.voxel_size == Coordinate(8, 4, 4)
        assert array.roi == data.roi
        assert array.dtype == expected.dtype
        np.testing.assert_array_equal(array[array.roi], expected)


def test_write_array_metadata(tmp_path):
    write_array(tmp_path / "a.zarr", "x", np.zeros((2, 3, 4, 5), np.float32), (1, 2, 3), (3, 6, 9))
    attrs = json.loads((tmp_path / "a.zarr" / "x" / ".zattrs").read_text())
    assert attrs["voxel_size"] == [1, 2, 3] and attrs["offset"] == [3, 6, 9]
    assert attrs["axis_names"] == ["c^", "z", "y", "x"]
    write_array(tmp_path / "a.n5", "x", np.zeros((3, 4, 5), np.uint8), (1, 2, 3), (3, 6, 9))
    attrs = json.loads((tmp_path / "a.n5" / "x" / "attributes.json").read_text())
    assert attrs["resolution"] == [3, 2, 1] and attrs["offset"] == [9, 6, 3]
    with pytest.raises(ValueError):
        write_array(tmp_path / "a.zarr", "y", np.zeros((3, 4)), (1, 1, 1))


def test_tutorial_layout(tmp_path):
    layout = write_tutorial_layout(tmp_path / "jrc.n5", raw_shape=(40, 48, 56), seed=1)
    assert (tmp_path / "jrc.n5" / "volumes" / "raw" / "s1" / "attributes.json").exists()
    raw_attrs = json.loads((tmp_path / "jrc.n5/volumes/raw/s1/attributes.json").read_text())
    assert raw_attrs["resolution"] == [8, 8, 8] and raw_attrs["dataType"] == "uint8"
    assert layout.raw.shape == (40, 48, 56)
    assert layout.raw_roi == Roi((8, 16, 24), (320, 384, 448))
    snapped = layout.raw_roi.snap_to_grid((16, 16, 16), mode="shrink")
    assert sorted(layout.gt_datasets) == [124, 125, 145]
    for crop, roi in layout.crop_rois.items():
        assert layout.gt_datasets[crop] == f"volumes/groundtruth/crop{crop}/labels//all"
        path = tmp_path / "jrc.n5" / f"volumes/groundtruth/crop{crop}/labels/all/attributes.json"
        attrs = json.loads(path.read_text())
        assert attrs["resolution"] == [4, 4, 4] and attrs["dataType"] == "uint64"
        assert attrs["cellmap"]["annotation"]["class_ids_annotated"] == [3, 4, 47, 48]
        assert all(v % 16 == 0 for v in (*roi.begin, *roi.shape))
        assert snapped.contains(roi)
        labels = layout.labels[crop]
        assert labels.shape == tuple(roi.shape / 4)
        assert set(np.unique(labels)) <= {0, 3, 4, 47, 48}
        assert (labels == 47).any() and (labels == 48).any()


def test_tutorial_layout_custom_crops_and_errors(tmp_path):
    layout = write_tutorial_layout(
        tmp_path / "c.n5",
        raw_shape=(32, 32, 32),
        raw_offset=(0, 0, 0),
        crops=[CropSpec(1, offset=(32, 64, 96), shape=(16, 20, 24), annotated=(47,)), 2],
        gt_path=tmp_path / "gt.n5",
    )
    assert layout.crop_rois[1] == Roi((32, 64, 96), (64, 80, 96))
    assert (tmp_path / "gt.n5/volumes/groundtruth/crop2/labels/all").exists()
    assert not (tmp_path / "c.n5/volumes/groundtruth").exists()
    with pytest.raises(ValueError, match="16 nm grid"):
        write_tutorial_layout(tmp_path / "d.n5", raw_shape=(16, 16, 16), crops=[CropSpec(1, offset=(8, 8, 8))])
