"""DataSplitGenerator from CSVs on generated containers: scale level choice, resampling,
normalisation, the gt layouts (label ids, per-class datasets), masks, limits and one-line
errors. Also ZarrArrayConfig's choice of a multiscale level by voxel size."""

from __future__ import annotations

import numpy as np
import pytest
import zarr
from funlib.geometry import Coordinate, Roi

from dacapo.config import ConfigError
from dacapo.experiments.datasplits import (
    DataSplitConfig,
    DataSplitGenerator,
    DatasetSpec,
    DatasetType,
    generate_dataspec_from_csv,
)
from dacapo.experiments.datasplits.datasets.arrays import ZarrArrayConfig
from dacapo.store.converter import structure, unstructure
from dacapo.utils.synthetic import make_cells, write_array

SHAPE = (32, 32, 32)  # at 4 nm


def _ome(group, levels):
    group.attrs["multiscales"] = [
        {
            "version": "0.4",
            "axes": [{"name": n, "type": "space", "unit": "nanometer"} for n in "zyx"],
            "datasets": [
                {
                    "path": path,
                    "coordinateTransformations": [
                        {"type": "scale", "scale": list(map(float, scale))},
                        {"type": "translation", "translation": [0.0, 0.0, 0.0]},
                    ],
                }
                for path, scale in levels
            ],
        }
    ]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Two containers: ``a.zarr`` with an OME-NGFF raw pyramid (s0 4 nm, s1 8 nm) and a label
    array; ``b.zarr`` with an s0/s1 raw pyramid (funlib metadata) and per-class datasets."""
    root = tmp_path_factory.mktemp("generator")
    raw, cells = make_cells(SHAPE, seed=3, num_objects=8)
    classes = np.where(cells == 0, 0, np.where(cells % 2 == 0, 3, 7)).astype(np.uint8)  # ids 3, 7
    a = root / "a.zarr"
    write_array(a, "raw/s0", raw, (4, 4, 4), chunks=16)
    write_array(a, "raw/s1", raw[::2, ::2, ::2].copy(), (8, 8, 8), chunks=16)
    for name in ("s0", "s1"):  # only the OME metadata then
        attrs = zarr.open_array(str(a / "raw" / name), mode="r+").attrs
        for key in ("voxel_size", "offset", "axis_names", "units", "types"):
            del attrs[key]
    _ome(zarr.open_group(str(a / "raw"), mode="a"), [("s0", (4, 4, 4)), ("s1", (8, 8, 8))])
    write_array(a, "gt/classes", classes, (4, 4, 4), chunks=16)
    write_array(a, "gt/cells", cells, (4, 4, 4), chunks=16)
    b = root / "b.zarr"
    write_array(b, "raw/s0", raw, (4, 4, 4), chunks=16)
    write_array(b, "raw/s1", raw[::2, ::2, ::2].copy(), (8, 8, 8), chunks=16)
    write_array(b, "labels/mito", np.where(classes == 3, cells, 0), (4, 4, 4), chunks=16)
    write_array(b, "labels/er", np.where(classes == 7, cells, 0), (4, 4, 4), chunks=16)
    write_array(b, "raw16", raw.astype(np.uint16) * 200, (4, 4, 4))
    write_array(b, "rgb", np.stack([raw] * 3), (4, 4, 4))
    write_array(b, "odd", raw, (6, 6, 6))
    return {"root": root, "raw": raw, "cells": cells, "classes": classes}


def _csv(root, name, rows):
    path = root / f"{name}.csv"
    path.write_text("\n".join(",".join(r) for r in rows) + "\n")
    return path


def _check_roundtrip(config):
    assert structure(unstructure(config), DataSplitConfig) == config


def test_label_ids_per_class(data):
    root = data["root"]
    csv = _csv(root, "ids", [
        ("# type", "raw container", "raw dataset", "gt container", "gt dataset"),
        ("train", "a.zarr", "raw", "a.zarr", "gt/classes"),
        ("val", str(root / "a.zarr"), "raw", "a.zarr", "gt/classes"),
    ])
    generator = DataSplitGenerator.generate_from_csv(
        csv, (8, 8, 8), (8, 8, 8), class_ids={"even": [3], "odd": [7], "any": []},
        targets=["odd", "even"], min_training_volume_size=0,
    )
    config = generator.compute()
    _check_roundtrip(config)
    assert config.name == "ids_semantic_odd_even_8nm"
    assert config.verify()[0]
    datasplit = config.datasplit()
    assert len(datasplit.train) == len(datasplit.validate) == 1
    names = [d.name for d in datasplit.train + datasplit.validate]
    assert len(set(names)) == 2  # unique across train and validate
    for dataset in datasplit.train + datasplit.validate:
        raw, gt = dataset.raw, dataset.gt
        assert raw.voxel_size == Coordinate(8, 8, 8) and raw.dtype == np.float32
        # s1 chosen (no resampling): raw is the 8 nm level, normalised by the uint8 range
        assert dataset.config.raw_config.source_array_config.dataset == "raw/s1"
        np.testing.assert_allclose(raw[raw.roi], data["raw"][::2, ::2, ::2] / np.float32(255), rtol=1e-6)
        assert gt.voxel_size == Coordinate(8, 8, 8)
        assert gt.axis_names == ["c^", "z", "y", "x"] and gt.shape == (2, 16, 16, 16)
        assert gt.attrs["channel_names"] == ["odd", "even"]
        labels = data["classes"][::2, ::2, ::2]
        np.testing.assert_array_equal(gt[gt.roi][0], labels == 7)
        np.testing.assert_array_equal(gt[gt.roi][1], labels == 3)
        assert dataset.mask is None


def test_per_class_datasets_with_a_missing_class(data):
    root = data["root"]
    csv = _csv(root, "perclass", [
        ("train", "b.zarr", "raw", "b.zarr", "labels/[mito&er]"),
        ("val", "b.zarr", "raw", "b.zarr", "labels/[mito]"),
    ])
    config = DataSplitGenerator.generate_from_csv(
        csv, (8, 8, 8), (4, 4, 4), targets=["er", "mito"], min_training_volume_size=0
    ).compute()
    _check_roundtrip(config)
    (train,), (val,) = config.datasplit().train, config.datasplit().validate
    classes = data["classes"]
    for dataset in (train, val):
        assert dataset.raw.voxel_size == Coordinate(8, 8, 8)
        assert dataset.gt.voxel_size == Coordinate(4, 4, 4)
        assert dataset.gt.attrs["channel_names"] == ["er", "mito"]
        gt = dataset.gt[dataset.gt.roi]
        assert gt.shape == (2, *SHAPE) and gt.dtype == np.uint8
        np.testing.assert_array_equal(gt[1], classes == 3)  # binarised instance ids
    np.testing.assert_array_equal(train.gt[train.gt.roi][0], classes == 7)
    assert train.mask is None
    np.testing.assert_array_equal(val.gt[val.gt.roi][0], 0)  # er is missing in the val row
    mask = val.mask[val.mask.roi]
    assert mask.shape == (2, *SHAPE)
    assert (mask[0] == 0).all() and (mask[1] == 1).all()
    assert val.mask.voxel_size == val.gt.voxel_size


def test_targets_found_as_subgroups_and_single_target(data):
    root = data["root"]
    csv = _csv(root, "sub", [("train", "b.zarr", "raw/s0", "b.zarr", "labels")])
    config = DataSplitGenerator.generate_from_csv(
        csv, (4, 4, 4), (8, 8, 8), targets=["mito"], min_training_volume_size=0
    ).compute()
    (dataset,) = config.datasplit().train
    assert dataset.raw.voxel_size == Coordinate(4, 4, 4)
    np.testing.assert_array_equal(dataset.gt[dataset.gt.roi][0], data["classes"][::2, ::2, ::2] == 3)
    # one label array, one target: its non-zero voxels
    csv = _csv(root, "single", [("train", "a.zarr", "raw", "a.zarr", "gt/cells")])
    config = DataSplitGenerator.generate_from_csv(
        csv, (4, 4, 4), (4, 4, 4), targets=["cell"], min_training_volume_size=0
    ).compute()
    (dataset,) = config.datasplit().train
    assert dataset.config.raw_config.source_array_config.dataset == "raw/s0"
    np.testing.assert_array_equal(dataset.gt[dataset.gt.roi][0], data["cells"] != 0)


def test_instance_segmentation_and_raw_range(data):
    root = data["root"]
    csv = _csv(root, "inst", [("val", "b.zarr", "raw16", "a.zarr", "gt/cells")])
    config = DataSplitGenerator.generate_from_csv(
        csv, (4, 4, 4), (8, 8, 8), segmentation_type="instance", raw_min=0, raw_max=51000,
    ).compute()
    (dataset,) = config.datasplit().validate
    np.testing.assert_array_equal(dataset.gt[dataset.gt.roi], data["cells"][::2, ::2, ::2])
    expected = np.clip(data["raw"].astype(np.float32) * 200 / 51000, 0, 1)
    np.testing.assert_allclose(dataset.raw[dataset.raw.roi], expected, rtol=1e-5)
    # dtype range by default: uint16
    config = DataSplitGenerator.generate_from_csv(csv, (4, 4, 4), (4, 4, 4), segmentation_type="instance").compute()
    assert config.validate_configs[0].raw_config.max == 65535.0


def test_validation_crop_and_small_training_volumes(data, caplog):
    root = data["root"]
    csv = _csv(root, "limits", [
        ("train", "a.zarr", "raw", "a.zarr", "gt/classes"),
        ("val", "a.zarr", "raw", "a.zarr", "gt/classes"),
    ])
    config = DataSplitGenerator.generate_from_csv(
        csv, (8, 8, 8), (8, 8, 8), class_ids={"odd": [7]},
        max_validation_volume_size=8 * 8 * 8, min_training_volume_size=16**3 + 1,
    ).compute()
    assert config.train_configs == []  # 16³ voxels < the minimum: skipped with a warning
    assert "min_training_volume_size" in caplog.text
    (val,) = config.datasplit().validate
    assert val.gt.roi == Roi((32, 32, 32), (64, 64, 64))  # centred 8³ of 16³
    np.testing.assert_array_equal(val.gt[val.gt.roi][0], data["classes"][::2, ::2, ::2][4:12, 4:12, 4:12] == 7)


def test_specs_and_csv_parsing(tmp_path):
    spec = DatasetSpec("train", "x/a.zarr", "raw", "x/a.zarr", "labels/[mito&er]")
    assert spec.dataset_type == DatasetType.train and str(spec) == "a_labels"
    csv = _csv(tmp_path, "parse", [
        ("type", "raw", "raw_ds", "gt", "gt_ds"),
        ("training", "a.zarr", "raw", "/abs/b.zarr", "gt"),
        ("", "", "", "", ""),
        ("validation", "a.zarr", "raw", "a.zarr", "gt"),
    ])
    specs = generate_dataspec_from_csv(csv)
    assert [s.dataset_type for s in specs] == [DatasetType.train, DatasetType.val]
    assert specs[0].raw_container == tmp_path / "a.zarr"  # relative to the CSV
    assert str(specs[0].gt_container) == "/abs/b.zarr"
    assert specs[1].row == 4
    generator = DataSplitGenerator("g", specs, (8, 8, 8), (8, 8, 8), targets=["a"])
    assert generator.check_class_name("labels/[a&b]") == (["labels/a", "labels/b"], ["a", "b"])


def _one_line(callable_) -> str:
    with pytest.raises(ConfigError) as exc_info:
        callable_()
    message = str(exc_info.value)
    assert "\n" not in message
    return message


def test_errors(data, tmp_path):
    root = data["root"]

    def compute(rows, *resolutions, **kwargs):
        csv = _csv(root, "err", rows)
        kwargs.setdefault("min_training_volume_size", 0)
        return lambda: DataSplitGenerator.generate_from_csv(csv, *resolutions, **kwargs).compute()

    message = _one_line(compute([("train", "nope.zarr", "raw", "a.zarr", "gt/cells")], (8,) * 3, (8,) * 3, targets=["c"]))
    assert message == f"DataSplitGenerator 'err': train row 1: raw container {root}/nope.zarr does not exist"
    message = _one_line(compute([("val", "a.zarr", "raw", "a.zarr", "gt/nope")], (8,) * 3, (8,) * 3, targets=["c"]))
    assert message == f"DataSplitGenerator 'err': val row 1: gt dataset 'gt/nope' not found in {root}/a.zarr"
    message = _one_line(compute([("train", "b.zarr", "odd", "a.zarr", "gt/cells")], (8,) * 3, (8,) * 3, targets=["c"]))
    assert "raw" in message and "cannot be resampled to (8, 8, 8) nm by integer factors" in message
    assert "odd (6, 6, 6)" in message
    message = _one_line(compute([("train", "a.zarr", "raw", "a.zarr", "gt/cells")], (8,) * 3, (256,) * 3, targets=["c"]))
    assert "at most 4x up, 32x down" in message
    message = _one_line(compute(
        [("train", "a.zarr", "raw", "a.zarr", "gt/cells"), ("val", "b.zarr", "rgb", "a.zarr", "gt/cells")],
        (4,) * 3, (4,) * 3, targets=["c"],
    ))
    assert message.startswith("DataSplitGenerator 'err': val row 2: raw ") and "has channels (3,)" in message
    message = _one_line(compute([("train", "a.zarr", "raw", "b.zarr", "rgb")], (4,) * 3, (4,) * 3, targets=["c"]))
    assert "gt " in message and "has channel axes" in message
    message = _one_line(compute([("train", "a.zarr", "raw", "a.zarr", "gt/classes")], (4,) * 3, (4,) * 3, targets=["a", "b"]))
    assert "is one label array: give class_ids" in message
    message = _one_line(compute([("train", "a.zarr", "raw", "b.zarr", "labels/[x&y]")], (4,) * 3, (4,) * 3))
    assert "none of the targets ['x', 'y']" in message
    (tmp_path / "bad.csv").write_text("train,a.zarr,raw,a.zarr\n")
    message = _one_line(lambda: generate_dataspec_from_csv(tmp_path / "bad.csv"))
    assert "line 1: expected 5 columns" in message
    (tmp_path / "bad.csv").write_text("test,a.zarr,raw,a.zarr,gt\n")
    assert "dataset type 'test' is not 'train' or 'val'" in _one_line(lambda: generate_dataspec_from_csv(tmp_path / "bad.csv"))
    assert "does not exist" in _one_line(lambda: generate_dataspec_from_csv(tmp_path / "missing.csv"))
    spec = [DatasetSpec("train", "a.zarr", "raw", "a.zarr", "gt")]
    assert "input_resolution=(8, 0, 8)" in _one_line(lambda: DataSplitGenerator("g", spec, (8, 0, 8), (8, 8, 8)))
    assert "different numbers of axes" in _one_line(lambda: DataSplitGenerator("g", spec, (8, 8), (8, 8, 8)))
    assert "targets ['b'] have no entry in class_ids" in _one_line(
        lambda: DataSplitGenerator("g", spec, (8,) * 3, (8,) * 3, targets=["b"], class_ids={"a": [1]})
    )
    assert "segmentation_type='panoptic'" in _one_line(
        lambda: DataSplitGenerator("g", spec, (8,) * 3, (8,) * 3, segmentation_type="panoptic")
    )


def test_zarr_multiscale_level_by_voxel_size(data):
    root = data["root"]
    for container in ("a.zarr",):  # OME-NGFF metadata
        s1 = ZarrArrayConfig("raw", root / container, "raw", voxel_size=(8, 8, 8)).array()
        assert s1.voxel_size == Coordinate(8, 8, 8) and s1.shape == (16, 16, 16)
        np.testing.assert_array_equal(s1[s1.roi], data["raw"][::2, ::2, ::2])
        s0 = ZarrArrayConfig("raw", root / container, "raw").array()
        assert s0.voxel_size == Coordinate(4, 4, 4)
        by_path = ZarrArrayConfig("raw", root / container, "raw/s1").array()
        assert by_path.voxel_size == Coordinate(8, 8, 8)
        message = _one_line(lambda: ZarrArrayConfig("raw", root / container, "raw", voxel_size=(16, 16, 16)).array())
        assert message.startswith("ZarrArrayConfig 'raw': voxel_size=(16, 16, 16) matches no level")
        assert "s0 (4, 4, 4), s1 (8, 8, 8)" in message
    # a group of s0, s1 arrays without OME metadata is not a multiscale group for
    # ZarrArrayConfig (name the level); the DataSplitGenerator does choose among them
    assert "is a group" in _one_line(lambda: ZarrArrayConfig("raw", root / "b.zarr", "raw").array())


def test_generated_datasplit_in_the_config_store(data, options):
    from dacapo.store.create_store import create_config_store

    csv = _csv(data["root"], "store", [("train", "a.zarr", "raw", "a.zarr", "gt/classes")])
    config = DataSplitGenerator.generate_from_csv(
        csv, (8, 8, 8), (8, 8, 8), class_ids={"odd": [7]}, min_training_volume_size=0
    ).compute()
    store = create_config_store()
    store.store_datasplit_config(config)
    assert store.retrieve_datasplit_config(config.name) == config
