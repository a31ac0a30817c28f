"""TiffArrayConfig against numpy: multi-page files, directories and globs of single images,
channel axes, metadata, laziness (tiles decoded), pickling, errors."""

from __future__ import annotations

import pickle
from collections import Counter

import numpy as np
import pytest
import tifffile
from funlib.geometry import Coordinate, Roi

from dacapo.config import ConfigError
from dacapo.experiments.datasplits.datasets.arrays import TiffArrayConfig
from dacapo.store.converter import structure, unstructure


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiff")
    rng = np.random.default_rng(2)
    data = rng.integers(0, 65535, (6, 40, 50)).astype(np.uint16)
    tifffile.imwrite(root / "stack.tif", data)
    sections = root / "sections"
    sections.mkdir()
    for i, plane in enumerate(data):  # natural order: 2.tif before 10.tif
        tifffile.imwrite(sections / f"{i * 4}.tif", plane)
    (sections / "notes.txt").write_text("not a tiff")
    rgb = rng.integers(0, 255, (30, 20, 3)).astype(np.uint8)
    tifffile.imwrite(root / "rgb.tif", rgb, photometric="rgb")
    return {"root": root, "data": data, "rgb": rgb}


def test_multipage_stack(stack):
    config = TiffArrayConfig("t", stack["root"] / "stack.tif", offset=(100, 8, 4), voxel_size=(50, 4, 4), axis_names=["z", "y", "x"])
    assert structure(unstructure(config), TiffArrayConfig) == config
    array = config.array()
    assert array.shape == (6, 40, 50) and array.dtype == np.uint16
    assert array.voxel_size == Coordinate(50, 4, 4)
    assert array.offset == Coordinate(100, 8, 4)
    assert array.roi == Roi((100, 8, 4), (300, 160, 200))
    assert array.axis_names == ["z", "y", "x"]
    np.testing.assert_array_equal(array[array.roi], stack["data"])
    sub = Roi((150, 16, 12), (100, 8, 20))
    np.testing.assert_array_equal(array[sub], stack["data"][1:3, 2:4, 2:7])
    ok, message = config.verify()
    assert ok and "uint16" in message


def test_defaults_from_the_file(stack):
    array = TiffArrayConfig("t", stack["root"] / "stack.tif").array()
    assert array.voxel_size == Coordinate(1, 1, 1) and array.offset == Coordinate(0, 0, 0)
    assert array.axis_names == ["z", "y", "x"]
    np.testing.assert_array_equal(array[array.roi], stack["data"])


@pytest.mark.parametrize("pattern", ["sections", "sections/*.tif"])
def test_directory_and_glob_sequences(stack, pattern):
    config = TiffArrayConfig("t", stack["root"] / pattern, voxel_size=(50, 4, 4))
    array = config.array()
    assert array.shape == (6, 40, 50)
    assert array.axis_names == ["z", "y", "x"]
    np.testing.assert_array_equal(array[array.roi], stack["data"])  # 0, 4, 8, 12, 16, 20 in order
    np.testing.assert_array_equal(array[Roi((100, 4, 8), (150, 4, 4))], stack["data"][2:5, 1:2, 2:3])


def test_channels_are_moved_first(stack):
    array = TiffArrayConfig("rgb", stack["root"] / "rgb.tif", voxel_size=(8, 8)).array()
    assert array.axis_names == ["c^", "y", "x"]
    assert array.shape == (3, 30, 20)
    np.testing.assert_array_equal(array[array.roi], np.moveaxis(stack["rgb"], -1, 0))
    named = TiffArrayConfig("rgb", stack["root"] / "rgb.tif", axis_names=["y", "x", "c"]).array()
    assert named.axis_names == ["c^", "y", "x"]
    np.testing.assert_array_equal(named[Roi((2, 3), (1, 2))], np.moveaxis(stack["rgb"][2:3, 3:5], -1, 0))


def test_reads_only_needed_tiles(tmp_path, monkeypatch):
    data = np.random.default_rng(0).integers(0, 255, (8, 512, 512)).astype(np.uint8)
    tifffile.imwrite(tmp_path / "tiled.tif", data, tile=(128, 128))
    reads: Counter = Counter()
    original = tifffile.ZarrTiffStore._getitem

    def counting(self, key):
        if not key.endswith((".zarray", ".zattrs", ".zgroup")):
            reads[key] += 1
        return original(self, key)

    monkeypatch.setattr(tifffile.ZarrTiffStore, "_getitem", counting)
    array = TiffArrayConfig("t", tmp_path / "tiled.tif", voxel_size=(40, 4, 4)).array()
    assert sum(reads.values()) == 0
    roi = Roi((80, 520, 1040), (40, 64, 64))  # section 2, y 130:146, x 260:276: one tile
    np.testing.assert_array_equal(array[roi], data[2:3, 130:146, 260:276])
    assert sum(reads.values()) == 1, reads


def test_pickles_without_a_file_handle(stack):
    array = TiffArrayConfig("t", stack["root"] / "stack.tif").array()
    array[Roi((0, 0, 0), (1, 1, 1))]  # opens the file in this process
    again = pickle.loads(pickle.dumps(array.data))
    np.testing.assert_array_equal(again.compute(), stack["data"])


def test_errors(stack, tmp_path):
    def one_line(config):
        with pytest.raises(ConfigError) as exc_info:
            config.array()
        message = str(exc_info.value)
        assert "\n" not in message and message.startswith("TiffArrayConfig 't': ")
        return message

    assert one_line(TiffArrayConfig("t", tmp_path / "nope.tif")).endswith("nope.tif does not exist")
    assert "matches no files" in one_line(TiffArrayConfig("t", tmp_path / "*.tif"))
    (tmp_path / "empty").mkdir()
    assert "without .tif/.tiff files" in one_line(TiffArrayConfig("t", tmp_path / "empty"))
    (tmp_path / "bad.tif").write_text("not a tiff")
    assert "cannot be read as TIFF" in one_line(TiffArrayConfig("t", tmp_path / "bad.tif"))
    message = one_line(TiffArrayConfig("t", stack["root"] / "stack.tif", voxel_size=(4, 4)))
    assert "voxel_size=(4, 4) has 2 axes, the data (6, 40, 50)" in message
    assert "does not match the 3 axes" in one_line(
        TiffArrayConfig("t", stack["root"] / "stack.tif", axis_names=["y", "x"])
    )
    with pytest.raises(ConfigError, match=r"^TiffArrayConfig 't': offset=\(1, 2\) and voxel_size=\(1, 2, 3\)"):
        TiffArrayConfig("t", "x.tif", offset=(1, 2), voxel_size=(1, 2, 3))
    with pytest.raises(ConfigError, match=r"^TiffArrayConfig 't': voxel_size=\(1, 2\) has 2 axes, axis_names="):
        TiffArrayConfig("t", "x.tif", voxel_size=(1, 2), axis_names=["z", "y", "x"])
    with pytest.raises(ConfigError, match=r"^TiffArrayConfig 't': voxel_size=.* positive"):
        TiffArrayConfig("t", "x.tif", voxel_size=(0, 2, 2))


def _read_in_child(data):
    return data.compute()


def test_forked_workers_read_their_own_handle(stack):
    import multiprocessing

    array = TiffArrayConfig("t", stack["root"] / "stack.tif").array()
    array[Roi((0, 0, 0), (1, 1, 1))]  # the parent holds an open handle
    with multiprocessing.get_context("fork").Pool(2) as pool:
        results = pool.map(_read_in_child, [array.data[i] for i in range(6)])
    np.testing.assert_array_equal(np.stack(results), stack["data"])


def test_page_fallback_without_tifffile_zarr(stack, tmp_path, monkeypatch):
    """Where tifffile's zarr interface is unavailable (tifffile >= 2025.5.21 needs zarr 3),
    pages are read one by one."""
    from dacapo.experiments.datasplits.datasets.arrays import tiff_array

    def unavailable(tif):
        raise ImportError("no zarr 2 interface")

    monkeypatch.setattr(tiff_array, "_open_zarr", unavailable)
    hyper = np.random.default_rng(3).integers(0, 255, (2, 3, 10, 12)).astype(np.uint8)
    tifffile.imwrite(tmp_path / "hyper.tif", hyper, imagej=True, metadata={"axes": "ZCYX"})
    for path, expected, names, voxel_size in (
        (stack["root"] / "stack.tif", stack["data"], ["z", "y", "x"], (1, 1, 1)),
        (stack["root"] / "sections", stack["data"], ["z", "y", "x"], (1, 1, 1)),
        (tmp_path / "hyper.tif", np.moveaxis(hyper, 1, 0), ["c^", "z", "y", "x"], (1, 1, 1)),
        (stack["root"] / "rgb.tif", np.moveaxis(stack["rgb"], -1, 0), ["c^", "y", "x"], (1, 1)),
    ):
        array = TiffArrayConfig("t", path, voxel_size=voxel_size).array()
        assert array.axis_names == names
        np.testing.assert_array_equal(array[array.roi], expected)
        if len(voxel_size) == 3:
            sub, index = Roi((1, 2, 3), (1, 4, 5)), (..., slice(1, 2), slice(2, 6), slice(3, 8))
        else:
            sub, index = Roi((2, 3), (4, 5)), (..., slice(2, 6), slice(3, 8))
        np.testing.assert_array_equal(array[sub], expected[index])
