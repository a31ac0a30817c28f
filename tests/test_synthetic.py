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
    assert raw_attrs["resolution"] == [16, 16, 16] and raw_attrs["dataType"] == "uint8"
    assert raw_attrs["offset"] == [48, 32, 16]  # x, y, z
    assert layout.raw.shape == (40, 48, 56)
    assert layout.raw_voxel_size == (16, 16, 16) and layout.gt_voxel_size == (4, 4, 4)
    assert layout.render_voxel_size == (8, 8, 8)
    assert layout.raw_roi == Roi((16, 32, 48), (640, 768, 896))
    snapped = layout.raw_roi.snap_to_grid((16, 16, 16), mode="shrink")
    assert snapped == layout.raw_roi  # raw voxels are on the 16 nm grid
    assert sorted(layout.gt_datasets) == [124, 125, 145]
    for crop, roi in layout.crop_rois.items():
        assert layout.gt_datasets[crop] == f"volumes/groundtruth/crop{crop}/labels//all"
        path = tmp_path / "jrc.n5" / f"volumes/groundtruth/crop{crop}/labels/all/attributes.json"
        attrs = json.loads(path.read_text())
        assert attrs["resolution"] == [4, 4, 4] and attrs["dataType"] == "uint64"
        assert attrs["offset"] == list(roi.begin)[::-1]
        assert attrs["cellmap"]["annotation"]["class_ids_annotated"] == [3, 4, 47, 48]
        assert all(v % 16 == 0 for v in (*roi.begin, *roi.shape))
        assert snapped.contains(roi)
        assert roi.shape == Coordinate(640, 704, 768)  # the default crop shape fits
        labels = layout.labels[crop]
        assert labels.shape == tuple(roi.shape / 4)
        assert set(np.unique(labels)) <= {0, 3, 4, 47, 48}
        assert (labels == 47).any() and (labels == 48).any()


def _peroxisome_count(labels):
    from scipy.ndimage import label

    return label(np.isin(labels, [47, 48]))[1]


@pytest.fixture(scope="module")
def default_layout(tmp_path_factory):
    root = tmp_path_factory.mktemp("default_layout")
    write_tutorial_layout(root / "warm.n5", raw_shape=(16, 16, 16))  # imports
    start = time.process_time()
    layout = write_tutorial_layout(root / "jrc_mus-liver.n5", gt_path=root / "gt.n5")
    return layout, time.process_time() - start


def test_tutorial_layout_defaults_suit_the_tutorial(default_layout):
    layout, seconds = default_layout
    # CPU time, robust against a busy machine: about 1.2 s on 2 idle cores
    assert seconds < 3.0, seconds
    assert layout.raw.shape == (160, 160, 160) and layout.raw.dtype == np.uint8
    assert layout.raw_voxel_size == (16, 16, 16)
    assert layout.raw_roi == Roi((16, 32, 48), (2560, 2560, 2560))
    rois = layout.crop_rois
    assert sorted(rois) == [124, 125, 145]
    for crop in (124, 125):  # a training output (68³ voxels of 8 nm) fits inside
        assert all(s >= 544 for s in rois[crop].shape)
        assert all(s >= 136 for s in layout.labels[crop].shape)
    assert all(s <= 212 * 8 for s in rois[145].shape)  # one validation output block covers it
    assert all(s <= 424 for s in layout.labels[145].shape)
    for crop, roi in rois.items():
        assert layout.raw_roi.contains(roi)
        assert all(v % 16 == 0 for v in (*roi.begin, *roi.shape))
        assert not any(roi.intersects(other) for c, other in rois.items() if c != crop)
        labels = layout.labels[crop]
        assert labels.dtype == np.uint64
        assert set(np.unique(labels)) == {0, 3, 4, 47, 48}
        assert _peroxisome_count(labels) >= 2
        # the 4 nm labels are an 8 nm rendering upsampled x2 (nearest)
        coarse = labels[::2, ::2, ::2]
        for axis in range(3):
            coarse = np.repeat(coarse, 2, axis=axis)
        np.testing.assert_array_equal(labels, coarse)
        # every object has a membrane: no lumen voxel touches the background
        for axis in range(3):
            a = np.moveaxis(labels, axis, 0)
            for x, y in ((a[:-1], a[1:]), (a[1:], a[:-1])):
                assert not ((x == 48) & (y == 0)).any() and not ((x == 4) & (y == 0)).any()


def test_tutorial_layout_raw_signal(default_layout):
    """Raw agrees with the labels, and peroxisomes look unlike mitochondria and background."""
    layout, _ = default_layout
    from scipy.ndimage import binary_erosion

    means: dict[int, list] = {k: [] for k in (0, 4, 48)}
    stds = []
    for crop, roi in layout.crop_rois.items():
        begin = (roi.begin - layout.raw_roi.begin) / 16
        end = (roi.end - layout.raw_roi.begin) / 16
        raw = layout.raw[tuple(slice(b, e) for b, e in zip(begin, end))].astype(np.float64)
        labels = layout.labels[crop][2::4, 2::4, 2::4]  # a label per 16 nm voxel
        assert labels.shape == raw.shape
        for k in means:
            means[k].append(raw[labels == k].mean())
        perox = np.isin(labels, [47, 48])
        assert raw[perox].mean() > raw[~perox].mean() + 40
        # mitochondria are textured (cristae), the peroxisome lumen is uniform
        mito_core = binary_erosion(labels == 4, iterations=1)
        perox_core = binary_erosion(labels == 48, iterations=1)
        stds.append((raw[mito_core].std(), raw[perox_core].std()))
    background, mito, perox = (np.mean(means[k]) for k in (0, 4, 48))
    assert perox > mito + 35 and mito > background + 10
    mito_std, perox_std = np.mean(stds, axis=0)
    assert mito_std > perox_std + 5, (mito_std, perox_std)


def test_tutorial_layout_reads_back(default_layout):
    from dacapo.experiments.datasplits.datasets.arrays import ZarrArrayConfig

    layout, _ = default_layout
    raw = ZarrArrayConfig("raw", layout.raw_container, layout.raw_dataset, snap_to_grid=(16, 16, 16)).array()
    assert raw.voxel_size == Coordinate(16, 16, 16) and raw.roi == layout.raw_roi
    np.testing.assert_array_equal(raw[raw.roi], layout.raw)
    for crop, dataset in layout.gt_datasets.items():
        gt = ZarrArrayConfig("gt", layout.gt_container, dataset, snap_to_grid=(16, 16, 16)).array()
        assert gt.voxel_size == Coordinate(4, 4, 4) and gt.roi == layout.crop_rois[crop]
        assert gt.dtype == np.uint64
    np.testing.assert_array_equal(gt[gt.roi], layout.labels[crop])  # the last crop


def test_tutorial_layout_never_allocates_4nm_raw(tmp_path):
    import tracemalloc

    write_tutorial_layout(tmp_path / "warm.n5", raw_shape=(16, 16, 16))
    tracemalloc.start()
    try:
        write_tutorial_layout(tmp_path / "a.n5")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # a 4 nm uint8 volume over the raw roi alone would be 640³ bytes = 262 MB
    assert peak < 250e6, peak / 1e6


def test_tutorial_layout_deterministic(tmp_path):
    crops = [CropSpec(1, shape=(64, 64, 64)), CropSpec(2, shape=(64, 80, 96))]
    a = write_tutorial_layout(tmp_path / "a.n5", raw_shape=(48, 48, 48), crops=crops, seed=3)
    b = write_tutorial_layout(tmp_path / "b.n5", raw_shape=(48, 48, 48), crops=crops, seed=3)
    c = write_tutorial_layout(tmp_path / "c.n5", raw_shape=(48, 48, 48), crops=crops, seed=4)
    np.testing.assert_array_equal(a.raw, b.raw)
    assert a.crop_rois == b.crop_rois
    for crop in a.labels:
        np.testing.assert_array_equal(a.labels[crop], b.labels[crop])
    assert not np.array_equal(a.raw, c.raw)


def test_tutorial_layout_other_voxel_sizes(tmp_path):
    from dacapo.experiments.datasplits.datasets.arrays import ZarrArrayConfig

    # raw at 8 nm off the 16 nm grid (snap_to_grid matters), rendered at 8 nm
    layout = write_tutorial_layout(
        tmp_path / "a.n5", raw_shape=(64, 64, 64), raw_voxel_size=8, raw_offset=(8, 16, 24)
    )
    assert layout.raw_voxel_size == (8, 8, 8) and layout.raw.shape == (64, 64, 64)
    snapped = layout.raw_roi.snap_to_grid((16, 16, 16), mode="shrink")
    assert snapped != layout.raw_roi
    raw = ZarrArrayConfig("raw", layout.raw_container, layout.raw_dataset, snap_to_grid=(16, 16, 16)).array()
    assert raw.voxel_size == Coordinate(8, 8, 8) and raw.roi == snapped
    for crop, roi in layout.crop_rois.items():
        assert snapped.contains(roi)
        assert (layout.labels[crop] == 48).any()
    # rendered at 4 nm (no upsampling of the labels), anisotropic raw
    layout = write_tutorial_layout(
        tmp_path / "b.n5",
        raw_shape=(24, 48, 48),
        raw_voxel_size=(16, 8, 8),
        render_voxel_size=4,
        raw_offset=(0, 0, 0),
        crops=[CropSpec(1, shape=(64, 64, 64))],
    )
    assert layout.render_voxel_size == (4, 4, 4) and layout.raw.shape == (24, 48, 48)
    assert layout.labels[1].shape == (64, 64, 64) and (layout.labels[1] == 48).any()


def test_tutorial_layout_custom_crops_and_errors(tmp_path):
    layout = write_tutorial_layout(
        tmp_path / "c.n5",
        raw_shape=(32, 32, 32),
        raw_offset=(0, 0, 0),
        crops=[CropSpec(1, offset=(32, 64, 96), shape=(16, 20, 24), annotated=(47,)), 2],
        gt_path=tmp_path / "gt.n5",
    )
    assert layout.crop_rois[1] == Roi((32, 64, 96), (64, 80, 96))
    assert layout.crop_rois[2].shape == Coordinate(512, 512, 512)  # clipped to the raw roi
    assert (layout.labels[1] == 48).any()
    attrs = json.loads((tmp_path / "gt.n5/volumes/groundtruth/crop1/labels/all/attributes.json").read_text())
    assert attrs["cellmap"]["annotation"]["class_ids_annotated"] == [47]
    assert (tmp_path / "gt.n5/volumes/groundtruth/crop2/labels/all").exists()
    assert not (tmp_path / "c.n5/volumes/groundtruth").exists()
    with pytest.raises(ValueError, match="16 nm grid"):
        write_tutorial_layout(tmp_path / "d.n5", raw_shape=(16, 16, 16), crops=[CropSpec(1, offset=(8, 8, 8))])
    with pytest.raises(ValueError, match="16 nm grid"):  # outside the raw roi
        write_tutorial_layout(
            tmp_path / "d.n5", raw_shape=(16, 16, 16), crops=[CropSpec(1, offset=(0, 0, 0))]
        )
    with pytest.raises(ValueError, match="multiple of raw_voxel_size"):
        write_tutorial_layout(tmp_path / "d.n5", raw_shape=(16, 16, 16), raw_offset=(8, 16, 32))
    with pytest.raises(ValueError, match="render_voxel_size"):
        write_tutorial_layout(tmp_path / "d.n5", raw_shape=(16, 16, 16), render_voxel_size=12)
    with pytest.raises(ValueError, match="render_voxel_size"):
        write_tutorial_layout(tmp_path / "d.n5", raw_shape=(16, 16, 16), render_voxel_size=2)
