"""ZarrArrayConfig against numpy ground truth: zarr and N5 metadata, snap_to_grid, the ``//``
dataset path, axes, errors, laziness."""

from __future__ import annotations

import json

import numpy as np
import pytest
import zarr
from funlib.geometry import Coordinate, Roi

from dacapo.config import ConfigError
from dacapo.experiments.datasplits.datasets.arrays import ZarrArrayConfig
from dacapo.utils.synthetic import write_array


def _data(shape, seed=0, dtype=np.uint8):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 255, shape).astype(dtype)


def test_zarr_funlib_metadata(tmp_path):
    data = _data((10, 12, 14))
    write_array(tmp_path / "c.zarr", "volumes/raw", data, (8, 4, 2), (80, 40, 20), chunks=4)
    array = ZarrArrayConfig("raw", tmp_path / "c.zarr", "volumes/raw").array()
    assert array.voxel_size == Coordinate(8, 4, 2)
    assert array.offset == Coordinate(80, 40, 20)
    assert array.roi == Roi((80, 40, 20), (80, 48, 28))
    assert array.axis_names == ["z", "y", "x"]
    assert array.units == ["nm", "nm", "nm"]
    assert array.dtype == np.uint8
    np.testing.assert_array_equal(array[array.roi], data)
    sub = Roi((96, 44, 24), (16, 8, 6))
    np.testing.assert_array_equal(array[sub], data[2:4, 1:3, 2:5])


def test_n5_resolution_and_offset_are_reversed(tmp_path):
    data = _data((6, 8, 10), dtype=np.uint64)
    path = tmp_path / "c.n5"
    write_array(path, "volumes/raw/s1", data, (8, 4, 2), (16, 8, 4), chunks=4)
    attributes = json.loads((path / "volumes/raw/s1/attributes.json").read_text())
    assert attributes["resolution"] == [2, 4, 8]  # x, y, z on disk
    assert attributes["offset"] == [4, 8, 16]
    array = ZarrArrayConfig("raw", path, "volumes/raw/s1").array()
    assert array.voxel_size == Coordinate(8, 4, 2)
    assert array.offset == Coordinate(16, 8, 4)
    assert array.shape == data.shape
    assert array.dtype == np.uint64
    np.testing.assert_array_equal(array[array.roi], data)


def test_double_slash_dataset_path(tmp_path):
    data = _data((8, 8, 8))
    path = tmp_path / "c.n5"
    write_array(path, "volumes/groundtruth/crop124/labels/all", data, (4, 4, 4), (0, 0, 0))
    for dataset in (
        "volumes/groundtruth/crop124/labels//all",
        "/volumes/groundtruth/crop124/labels/all/",
        "volumes//groundtruth/crop124/labels/all",
    ):
        array = ZarrArrayConfig("gt", path, dataset).array()
        np.testing.assert_array_equal(array[array.roi], data)


def test_snap_to_grid_shrinks_inward(tmp_path):
    data = _data((20, 20, 20))
    # roi [8, 168) on each axis with 8 nm voxels: snapping to 16 gives [16, 160)
    write_array(tmp_path / "c.n5", "raw", data, (8, 8, 8), (8, 8, 8))
    config = ZarrArrayConfig("raw", tmp_path / "c.n5", "raw", snap_to_grid=(16, 16, 16))
    array = config.array()
    assert array.roi == Roi((16, 16, 16), (144, 144, 144))
    assert array.voxel_size == Coordinate(8, 8, 8)
    np.testing.assert_array_equal(array[array.roi], data[1:19, 1:19, 1:19])
    # already aligned: unchanged, still the zarr-backed (writable) array
    write_array(tmp_path / "c.n5", "aligned", data, (8, 8, 8), (16, 32, 48))
    aligned = ZarrArrayConfig("a", tmp_path / "c.n5", "aligned", snap_to_grid=(16, 16, 16)).array()
    assert aligned.roi == Roi((16, 32, 48), (160, 160, 160))


def test_snap_to_grid_off_voxel_grid(tmp_path):
    # roi [4, 84), voxel grid 4 + 8k; the 16 nm grid gives [16, 80), which is then shrunk
    # onto the voxel grid: [20, 76)
    data = _data((10, 10, 10))
    write_array(tmp_path / "c.zarr", "raw", data, (8, 8, 8), (4, 4, 4))
    array = ZarrArrayConfig("raw", tmp_path / "c.zarr", "raw", snap_to_grid=(16, 16, 16)).array()
    assert array.roi == Roi((20, 20, 20), (56, 56, 56))
    np.testing.assert_array_equal(array[array.roi], data[2:9, 2:9, 2:9])


def test_axes_override_and_channels(tmp_path):
    data = _data((3, 6, 7))
    write_array(tmp_path / "c.zarr", "img", data, (4, 4), (8, 12), axis_names=["c^", "y", "x"])
    array = ZarrArrayConfig("img", tmp_path / "c.zarr", "img").array()
    assert array.axis_names == ["c^", "y", "x"]
    assert array.channel_dims == 1
    assert array.roi == Roi((8, 12), (24, 28))
    np.testing.assert_array_equal(array[array.roi], data)
    overridden = ZarrArrayConfig("img", tmp_path / "c.zarr", "img", axes=["c", "a", "b"]).array()
    assert overridden.axis_names == ["c^", "a", "b"]
    with pytest.raises(ConfigError, match=r"^ZarrArrayConfig 'img': axes=.*does not match"):
        ZarrArrayConfig("img", tmp_path / "c.zarr", "img", axes=["y", "x"]).array()


def test_no_metadata_defaults(tmp_path):
    data = _data((5, 6, 7))
    zarr.open_group(str(tmp_path / "c.zarr"), mode="a").create_dataset("plain", data=data)
    array = ZarrArrayConfig("plain", tmp_path / "c.zarr", "plain").array()
    assert array.voxel_size == Coordinate(1, 1, 1)
    assert array.offset == Coordinate(0, 0, 0)
    assert array.axis_names == ["z", "y", "x"]
    np.testing.assert_array_equal(array[array.roi], data)
    zarr.open_group(str(tmp_path / "c.zarr"), mode="a").create_dataset("four", data=data[None])
    four = ZarrArrayConfig("four", tmp_path / "c.zarr", "four").array()
    assert four.axis_names == ["c^", "z", "y", "x"]


def test_voxel_size_and_offset_overrides(tmp_path):
    data = _data((4, 4, 4))
    write_array(tmp_path / "c.zarr", "raw", data, (1, 1, 1))
    array = ZarrArrayConfig(
        "raw", tmp_path / "c.zarr", "raw", voxel_size=(8, 8, 8), offset=(16, 0, 8)
    ).array()
    assert array.roi == Roi((16, 0, 8), (32, 32, 32))


def test_ome_ngff_multiscales_and_transform(tmp_path):
    path = tmp_path / "ome.zarr"
    group = zarr.open_group(str(path), mode="a")
    em = group.require_group("recon-1/em/fibsem-uint8")
    s0 = _data((8, 8, 8))
    s1 = s0[::2, ::2, ::2].copy()
    em.create_dataset("s0", data=s0)
    em.create_dataset("s1", data=s1)
    em.attrs["multiscales"] = [
        {
            "version": "0.4",
            "axes": [{"name": n, "type": "space", "unit": "nanometer"} for n in "zyx"],
            "datasets": [
                {
                    "path": "s0",
                    "coordinateTransformations": [
                        {"type": "scale", "scale": [4.0, 4.0, 4.0]},
                        {"type": "translation", "translation": [40.0, 80.0, 120.0]},
                    ],
                },
                {
                    "path": "s1",
                    "coordinateTransformations": [
                        {"type": "scale", "scale": [8.0, 8.0, 8.0]},
                        {"type": "translation", "translation": [40.0, 80.0, 120.0]},
                    ],
                },
            ],
        }
    ]
    s1_array = ZarrArrayConfig("s1", path, "recon-1/em/fibsem-uint8/s1").array()
    assert s1_array.voxel_size == Coordinate(8, 8, 8)
    assert s1_array.offset == Coordinate(40, 80, 120)
    assert s1_array.axis_names == ["z", "y", "x"]
    np.testing.assert_array_equal(s1_array[s1_array.roi], s1)
    # the multiscale group itself opens its first level
    group_array = ZarrArrayConfig("em", path, "recon-1/em/fibsem-uint8").array()
    assert group_array.voxel_size == Coordinate(4, 4, 4)

    # a CellMap-style "transform" attribute
    labels = group.create_dataset("labels", data=s1)
    labels.attrs["transform"] = {
        "axes": ["z", "y", "x"],
        "scale": [2.0, 4.0, 6.0],
        "translate": [2.0, 4.0, 6.0],
        "units": ["nm", "nm", "nm"],
    }
    transformed = ZarrArrayConfig("labels", path, "labels").array()
    assert transformed.voxel_size == Coordinate(2, 4, 6)
    assert transformed.offset == Coordinate(2, 4, 6)


def test_write_mode(tmp_path):
    data = _data((4, 4, 4))
    write_array(tmp_path / "c.zarr", "raw", data, (2, 2, 2), (0, 0, 0))
    array = ZarrArrayConfig("raw", tmp_path / "c.zarr", "raw").array("a")
    array[Roi((0, 0, 0), (2, 2, 2))] = np.full((1, 1, 1), 7, dtype=np.uint8)
    reread = ZarrArrayConfig("raw", tmp_path / "c.zarr", "raw").array()
    assert reread[Roi((0, 0, 0), (2, 2, 2))].item() == 7
    read_only = ZarrArrayConfig("raw", tmp_path / "c.zarr", "raw", mode="r")
    with pytest.raises(ConfigError, match="read-only"):
        read_only.array("a")


def _one_line(exc_info) -> str:
    message = str(exc_info.value)
    assert "\n" not in message
    return message


def test_missing_container_error(tmp_path):
    config = ZarrArrayConfig("raw", tmp_path / "x" / "y.n5", "volumes/raw")
    with pytest.raises(ConfigError) as exc_info:
        config.array()
    assert _one_line(exc_info) == f"ZarrArrayConfig 'raw': file_name={tmp_path}/x/y.n5 does not exist"
    ok, message = config.verify()
    assert not ok and "does not exist" in message


def test_missing_dataset_error(tmp_path):
    write_array(tmp_path / "c.n5", "volumes/raw/s0", _data((4, 4, 4)), (4, 4, 4))
    with pytest.raises(ConfigError) as exc_info:
        ZarrArrayConfig("raw", tmp_path / "c.n5", "volumes/raw/s1").array()
    message = _one_line(exc_info)
    assert message.startswith("ZarrArrayConfig 'raw': dataset='volumes/raw/s1' not found")
    assert "s0" in message  # says what is there
    with pytest.raises(ConfigError) as exc_info:
        ZarrArrayConfig("raw", tmp_path / "c.n5", "volumes/raw").array()
    assert "is a group" in _one_line(exc_info)


def test_config_field_errors():
    with pytest.raises(ConfigError, match=r"^ZarrArrayConfig 'raw': snap_to_grid=.* positive"):
        ZarrArrayConfig("raw", "/x.zarr", "raw", snap_to_grid=(16, 0, 16))
    with pytest.raises(ConfigError, match=r"^ZarrArrayConfig 'raw': dataset="):
        ZarrArrayConfig("raw", "/x.zarr", "")
    with pytest.raises(ConfigError, match=r"^ZarrArrayConfig 'raw': mode="):
        ZarrArrayConfig("raw", "/x.zarr", "raw", mode="x")


@pytest.mark.parametrize("suffix", [".zarr", ".n5"])
def test_reads_only_needed_chunks(tmp_path, chunk_reads, suffix):
    data = _data((128, 128, 128))
    write_array(tmp_path / f"big{suffix}", "raw", data, (4, 4, 4), (0, 0, 0), chunks=16)
    config = ZarrArrayConfig("raw", tmp_path / f"big{suffix}", "raw", snap_to_grid=(16, 16, 16))
    array = config.array()
    assert chunk_reads.count == 0  # opening reads metadata only
    roi = Roi((200, 200, 200), (80, 80, 80))  # voxels 50:70 on each axis -> chunks 3, 4
    np.testing.assert_array_equal(array[roi], data[50:70, 50:70, 50:70])
    assert 0 < len(chunk_reads.keys) <= 8, chunk_reads.keys
    assert chunk_reads.count <= 8
