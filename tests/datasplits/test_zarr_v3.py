"""ZarrArrayConfig on zarr v3 containers written by tensorstore (an independent implementation):
codecs, sharding, dimension names, OME-NGFF 0.5 multiscales, laziness, errors, training."""

from __future__ import annotations

import json
import multiprocessing
import pickle

import numpy as np
import pytest
from funlib.geometry import Coordinate, Roi

from dacapo.config import ConfigError
from dacapo.experiments.datasplits.datasets.arrays import _zarr_v3
from dacapo.experiments.datasplits.datasets.arrays import (
    BinarizeArrayConfig,
    IntensitiesArrayConfig,
    ZarrArrayConfig,
)

ts = pytest.importorskip("tensorstore")

BYTES = {"name": "bytes", "configuration": {"endian": "little"}}
CODECS = {
    "gzip": [BYTES, {"name": "gzip", "configuration": {"level": 5}}],
    "zstd": [BYTES, {"name": "zstd", "configuration": {"level": 3}}],
    "blosc": [
        BYTES,
        {"name": "blosc", "configuration": {"cname": "lz4", "clevel": 5, "shuffle": "shuffle", "blocksize": 0}},
    ],
    "transpose_big_endian_crc32c": [
        {"name": "transpose", "configuration": {"order": [2, 0, 1]}},
        {"name": "bytes", "configuration": {"endian": "big"}},
        {"name": "crc32c"},
    ],
    "sharded": [
        {
            "name": "sharding_indexed",
            "configuration": {
                "chunk_shape": [4, 4, 4],
                "codecs": [BYTES, {"name": "zstd", "configuration": {"level": 1}}],
                "index_codecs": [BYTES, {"name": "crc32c"}],
            },
        }
    ],
    "sharded_index_at_start": [
        {
            "name": "sharding_indexed",
            "configuration": {
                "chunk_shape": [4, 4, 4],
                "codecs": [BYTES, {"name": "gzip", "configuration": {"level": 1}}],
                "index_codecs": [BYTES],
                "index_location": "start",
            },
        }
    ],
}


def write_v3(path, data, chunks, codecs=None, attributes=None, dimension_names=None, **metadata):
    """A zarr v3 array written by tensorstore."""
    metadata = {
        "shape": list(data.shape),
        "data_type": np.dtype(data.dtype).name,
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(chunks)}},
        "codecs": codecs or CODECS["gzip"],
        "attributes": attributes or {},
        **metadata,
    }
    if dimension_names is not None:
        metadata["dimension_names"] = dimension_names
    spec = {"driver": "zarr3", "kvstore": {"driver": "file", "path": str(path)}, "metadata": metadata}
    store = ts.open(spec, create=True, delete_existing=True).result()
    store[...] = data
    return path


def write_group(path, attributes=None):
    path.mkdir(parents=True, exist_ok=True)
    node = {"zarr_format": 3, "node_type": "group", "attributes": attributes or {}}
    (path / "zarr.json").write_text(json.dumps(node))


def _data(shape, dtype=np.uint8, seed=0):
    values = np.random.default_rng(seed).integers(0, 200, shape)
    return values.astype(dtype)


def _one_line(exc_info) -> str:
    message = str(exc_info.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("codecs", sorted(CODECS))
@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.uint64])
def test_codecs_values_roi_voxel_size(tmp_path, codecs, dtype):
    data = _data((10, 12, 14), dtype)  # chunks of 8 do not divide the shape
    write_group(tmp_path / "c.zarr")
    write_group(tmp_path / "c.zarr" / "volumes")
    attributes = {"voxel_size": [8, 4, 2], "offset": [80, 40, 20], "axis_names": ["z", "y", "x"]}
    write_v3(tmp_path / "c.zarr" / "volumes" / "raw", data, (8, 8, 8), CODECS[codecs], attributes)
    array = ZarrArrayConfig("raw", tmp_path / "c.zarr", "volumes//raw").array()
    assert array.voxel_size == Coordinate(8, 4, 2)
    assert array.offset == Coordinate(80, 40, 20)
    assert array.roi == Roi((80, 40, 20), (80, 48, 28))
    assert array.axis_names == ["z", "y", "x"]
    assert array.dtype == dtype
    np.testing.assert_array_equal(array[array.roi], data)
    sub = Roi((96, 44, 24), (32, 28, 6))
    np.testing.assert_array_equal(array[sub], data[2:6, 1:8, 2:5])
    assert array.attrs["voxel_size"] == [8, 4, 2]


def test_missing_chunks_read_as_fill_value_and_v2_key_encoding(tmp_path):
    data = np.zeros((8, 8), np.float32)
    data[:4, :4] = 3.5
    path = write_v3(
        tmp_path / "a.zarr", data, (4, 4), [BYTES], fill_value="NaN",
        chunk_key_encoding={"name": "v2", "configuration": {"separator": "."}},
    )
    ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": str(path)}}).result()[4:, :] = np.nan
    assert (path / "0.0").is_file() and not (path / "1.1").exists()
    array = ZarrArrayConfig("a", tmp_path, "a.zarr").array()
    values = array[array.roi]
    np.testing.assert_array_equal(values[:4], data[:4])
    assert np.isnan(values[4:]).all()


def test_dimension_names_give_axes_and_channels(tmp_path):
    data = _data((2, 6, 8, 10))
    write_v3(tmp_path / "c.zarr", data, (1, 4, 4, 4), dimension_names=["c", "z", "y", "x"])
    array = ZarrArrayConfig("raw", tmp_path, "c.zarr").array()
    assert array.axis_names == ["c^", "z", "y", "x"]
    assert array.voxel_size == Coordinate(1, 1, 1)
    assert array.roi == Roi((0, 0, 0), (6, 8, 10))
    np.testing.assert_array_equal(array[Roi((1, 2, 3), (2, 2, 2))], data[:, 1:3, 2:4, 3:5])
    # the config's axes and voxel size win; snap_to_grid shrinks inward
    config = ZarrArrayConfig(
        "raw", tmp_path, "c.zarr", axes=["c^", "z", "y", "x"], voxel_size=(4, 4, 4),
        offset=(4, 0, 0), snap_to_grid=(8, 8, 8),
    )
    snapped = config.array()
    assert snapped.roi == Roi((8, 0, 0), (16, 32, 40))
    np.testing.assert_array_equal(snapped[snapped.roi], data[:, 1:5, 0:8, 0:10])
    # unnamed dimensions: defaults
    write_v3(tmp_path / "d.zarr", data[0], (4, 4, 4), dimension_names=[None, "y", "x"])
    assert ZarrArrayConfig("d", tmp_path, "d.zarr").array().axis_names == ["z", "y", "x"]


def _ome_group(tmp_path, data):
    """An OME-NGFF 0.5 multiscale group (c, z, y, x): s0 at 4 nm, s1 at 8 nm, sharded arrays."""
    group = tmp_path / "ome.zarr" / "raw"
    write_group(tmp_path / "ome.zarr")
    multiscales = [
        {
            "name": "raw",
            "axes": [
                {"name": "c", "type": "channel"},
                {"name": "z", "type": "space", "unit": "nanometer"},
                {"name": "y", "type": "space", "unit": "nanometer"},
                {"name": "x", "type": "space", "unit": "nanometer"},
            ],
            "datasets": [
                {
                    "path": f"s{level}",
                    "coordinateTransformations": [
                        {"type": "scale", "scale": [1.0] + [4.0 * 2**level] * 3},
                        {"type": "translation", "translation": [0.0, 40.0, 80.0, 120.0 + 2 * level]},
                    ],
                }
                for level in (0, 1)
            ],
        }
    ]
    write_group(group, {"ome": {"version": "0.5", "multiscales": multiscales}})
    names = ["c", "z", "y", "x"]
    sharded = [{"name": "sharding_indexed", "configuration": {"chunk_shape": [1, 4, 4, 4], "codecs": [BYTES]}}]
    write_v3(group / "s0", data, (2, 8, 8, 8), sharded, dimension_names=names)
    write_v3(group / "s1", data[:, ::2, ::2, ::2], (2, 4, 4, 4), dimension_names=names)
    return tmp_path / "ome.zarr"


def test_ome_ngff_0_5_multiscale_group(tmp_path):
    data = _data((2, 16, 16, 16))
    container = _ome_group(tmp_path, data)
    level0 = ZarrArrayConfig("raw", container, "raw").array()
    assert level0.voxel_size == Coordinate(4, 4, 4)
    assert level0.offset == Coordinate(40, 80, 120)
    assert level0.axis_names == ["c^", "z", "y", "x"]
    assert level0.units == ["nanometer"] * 3
    np.testing.assert_array_equal(level0[level0.roi], data)
    level1 = ZarrArrayConfig("raw", container, "raw", voxel_size=(8, 8, 8)).array()
    assert level1.voxel_size == Coordinate(8, 8, 8)
    assert level1.offset == Coordinate(40, 80, 122)
    np.testing.assert_array_equal(level1[level1.roi], data[:, ::2, ::2, ::2])
    direct = ZarrArrayConfig("raw", container, "raw/s1").array()
    assert direct.roi == level1.roi
    with pytest.raises(ConfigError) as exc_info:
        ZarrArrayConfig("raw", container, "raw", voxel_size=(2, 2, 2)).array()
    message = _one_line(exc_info)
    assert "voxel_size=(2, 2, 2) matches no level" in message and "s1 (8, 8, 8)" in message


@pytest.fixture
def file_reads(monkeypatch):
    """Every (file name, offset) the v3 reader reads."""
    reads = []
    original = _zarr_v3.read_file_range

    def counting(path, offset, length):
        reads.append((path.as_posix(), offset))
        return original(path, offset, length)

    monkeypatch.setattr(_zarr_v3, "read_file_range", counting)
    return reads


def test_reads_only_the_needed_chunks(tmp_path, file_reads):
    data = _data((128, 128, 128))
    write_v3(tmp_path / "big.zarr", data, (16, 16, 16), attributes={"voxel_size": [4, 4, 4]})
    array = ZarrArrayConfig("raw", tmp_path, "big.zarr", snap_to_grid=(16, 16, 16)).array()
    assert file_reads == []  # opening reads metadata only
    roi = Roi((200, 200, 200), (80, 80, 80))  # voxels 50:70 on each axis -> chunks 3, 4
    np.testing.assert_array_equal(array[roi], data[50:70, 50:70, 50:70])
    chunks = {name.split("big.zarr/")[-1] for name, _ in file_reads}
    assert chunks == {f"c/{z}/{y}/{x}" for z in (3, 4) for y in (3, 4) for x in (3, 4)}
    assert len(file_reads) == 8


def test_sharded_reads_index_and_inner_chunks_only(tmp_path, file_reads):
    data = _data((64, 64, 64))
    codecs = [{"name": "sharding_indexed", "configuration": {"chunk_shape": [8, 8, 8], "codecs": [BYTES]}}]
    write_v3(tmp_path / "big.zarr", data, (32, 32, 32), codecs)
    array = ZarrArrayConfig("raw", tmp_path, "big.zarr").array()
    np.testing.assert_array_equal(array[Roi((30, 30, 30), (4, 4, 4))], data[30:34, 30:34, 30:34])
    # 8 shards, each: its index + the one inner chunk touched
    assert len(file_reads) == 16
    assert sum(1 for _, offset in file_reads if offset is not None and offset < 0) == 8


def test_pickled_and_forked_reads(tmp_path):
    data = _data((16, 16, 16))
    write_v3(tmp_path / "c.zarr", data, (8, 8, 8), CODECS["sharded"], attributes={"voxel_size": [2, 2, 2]})
    array = ZarrArrayConfig("raw", tmp_path, "c.zarr").array()
    np.testing.assert_array_equal(array[array.roi], data)  # used in the parent before forking
    again = pickle.loads(pickle.dumps(array))
    np.testing.assert_array_equal(again[again.roi], data)
    with multiprocessing.get_context("fork").Pool(1) as pool:
        total = pool.apply(_sum_of, (array,))
    assert total == int(data.sum())


def _sum_of(array) -> int:
    return int(array[array.roi].astype(np.int64).sum())


def test_errors_are_one_line(tmp_path):
    write_group(tmp_path / "c.zarr")
    write_v3(tmp_path / "c.zarr" / "raw", _data((4, 4, 4)), (4, 4, 4))
    write_group(tmp_path / "c.zarr" / "labels")
    with pytest.raises(ConfigError) as exc_info:
        ZarrArrayConfig("v3raw", tmp_path / "c.zarr", "volumes/raw").array()
    message = _one_line(exc_info)
    assert message.startswith("ZarrArrayConfig 'v3raw': dataset='volumes/raw' not found")
    assert "raw, labels/" in message
    with pytest.raises(ConfigError) as exc_info:
        ZarrArrayConfig("v3raw", tmp_path / "c.zarr", "labels").array()
    assert "is a group, not an array" in _one_line(exc_info)
    with pytest.raises(ConfigError) as exc_info:
        ZarrArrayConfig("v3raw", tmp_path / "c.zarr", "raw").array("r+")
    assert "reads only" in _one_line(exc_info)

    meta_file = tmp_path / "c.zarr" / "raw" / "zarr.json"
    meta = json.loads(meta_file.read_text())
    meta["codecs"] = [BYTES, {"name": "bz2", "configuration": {}}]
    meta_file.write_text(json.dumps(meta))
    with pytest.raises(ConfigError) as exc_info:
        ZarrArrayConfig("v3raw", tmp_path / "c.zarr", "raw").array()
    assert _one_line(exc_info).endswith("codec 'bz2' is not supported")
    meta_file.write_text(json.dumps({"zarr_format": 3, "node_type": "array"}))
    with pytest.raises(ConfigError) as exc_info:
        ZarrArrayConfig("v3raw", tmp_path / "c.zarr", "raw").array()
    assert "zarr.json is invalid" in _one_line(exc_info)


def test_v3_raw_feeds_the_gunpowder_trainer(tmp_path):
    from dacapo.experiments.datasplits.datasets import RawGTDatasetConfig
    from dacapo.experiments.tasks import DistanceTaskConfig
    from dacapo.experiments.trainers import GunpowderTrainer, GunpowderTrainerConfig
    from dacapo.utils.synthetic import write_cells

    cells = write_cells(tmp_path / "cells.zarr", (32, 32, 32), voxel_size=(8, 8, 8), seed=1, num_objects=4)
    labels = ZarrArrayConfig("labels", cells.container, "labels").array()
    # raw voxel values are their (1-based) flat index, so a batch tells where it was taken
    raw = np.arange(1, 32**3 + 1, dtype=np.float32).reshape(32, 32, 32)
    write_v3(
        tmp_path / "raw_v3.zarr" / "raw", raw, (16, 16, 16), CODECS["sharded"],
        attributes={"voxel_size": list(labels.voxel_size), "offset": list(labels.offset)},
        dimension_names=["z", "y", "x"],
    )
    dataset = RawGTDatasetConfig(
        name="v3",
        raw_config=IntensitiesArrayConfig(
            "raw", ZarrArrayConfig("raw_v3", tmp_path / "raw_v3.zarr", "raw", mode="r"), min=0.0, max=32.0**3
        ),
        gt_config=BinarizeArrayConfig(
            "gt", ZarrArrayConfig("labels", cells.container, "labels"), groupings=[("cell", [])]
        ),
    ).dataset()
    task_config = DistanceTaskConfig("d", channels=["cell"], clip_distance=40.0, tol_distance=40.0, scale_factor=40.0)
    task = task_config.task_type(task_config)

    class ShapesOnly:
        input_shape, output_shape = Coordinate(16, 16, 16), Coordinate(8, 8, 8)
        num_in_channels = num_out_channels = 1

        def compute_output_shape(self, shape):
            return 1, self.output_shape

        def scale(self, voxel_size):
            return voxel_size

    trainer = GunpowderTrainer(
        GunpowderTrainerConfig("t", batch_size=1, learning_rate=1e-3, num_data_fetchers=0, min_masked=0.0)
    )
    trainer.build_batch_provider([dataset], ShapesOnly(), task, seed=0)
    with trainer:
        batch = trainer.next_batch(0)
    assert batch["raw"].shape == (1, 1, 16, 16, 16)
    got = np.rint(batch["raw"][0, 0] * 32.0**3)
    inside = np.argwhere(got > 0)[0]  # (batches near the border are zero-padded)
    corner = np.array(np.unravel_index(int(got[tuple(inside)]) - 1, raw.shape)) - inside
    padded = np.pad(raw, 16)
    expected = padded[tuple(slice(c + 16, c + 32) for c in corner)]
    np.testing.assert_array_equal(got, expected)
