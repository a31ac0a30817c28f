"""SimpleDataSplitConfig / SimpleDatasetConfig (directory conventions) and the dummy
datasplit, dataset and array."""

from __future__ import annotations

import numpy as np
import pytest
from funlib.geometry import Coordinate

from dacapo.config import ConfigError
from dacapo.experiments.datasplits import DummyDataSplitConfig, SimpleDataSplitConfig
from dacapo.experiments.datasplits.datasets import DummyDatasetConfig, SimpleDatasetConfig
from dacapo.store.converter import structure, unstructure
from dacapo.utils.synthetic import write_array


@pytest.fixture(scope="module")
def layout(tmp_path_factory):
    root = tmp_path_factory.mktemp("simple")
    rng = np.random.default_rng(4)
    data = {}

    def container(path, raw, voxel=(8, 8, 8), mask=None):
        labels = rng.integers(0, 5, raw.shape[-3:]).astype(np.uint64)
        write_array(path, "raw", raw, voxel, (16, 0, 8))
        write_array(path, "labels", labels, voxel, (16, 0, 8))
        if mask is not None:
            write_array(path, "mask", mask, voxel, (16, 0, 8))
        data[path.name] = (raw, labels, mask)

    shape = (6, 7, 8)
    container(root / "train" / "cell_a.zarr", rng.integers(0, 255, shape).astype(np.uint8),
              mask=rng.integers(0, 2, shape).astype(np.uint8))
    container(root / "train" / "more" / "cell_b.zarr", rng.integers(0, 65535, shape).astype(np.uint16), voxel=(4, 4, 4))
    container(root / "validate" / "cell_c.n5", rng.random(shape).astype(np.float32))
    container(root / "test" / "cell_d.zarr", rng.integers(0, 255, shape).astype(np.uint8))
    return root, data


def test_simple_datasplit(layout):
    root, data = layout
    config = SimpleDataSplitConfig("simple", root)
    assert structure(unstructure(config), SimpleDataSplitConfig) == config
    assert [d.name for d in config.train_configs] == ["cell_a", "more_cell_b"]
    assert [d.name for d in config.validate_configs] == ["cell_c"]
    assert config.train == config.train_configs  # the original's names
    datasplit = config.datasplit()
    assert [d.name for d in datasplit.train] == ["cell_a", "more_cell_b"]
    a, b = datasplit.train
    (c,) = datasplit.validate
    for dataset, scale in ((a, 255.0), (b, 65535.0), (c, None)):
        raw, labels, mask = data[dataset.config.path.name]
        assert dataset.raw.dtype == np.float32
        expected = raw if scale is None else raw.astype(np.float32) / np.float32(scale)
        np.testing.assert_allclose(dataset.raw[dataset.raw.roi], expected, rtol=1e-6)
        np.testing.assert_array_equal(dataset.gt[dataset.gt.roi], labels)
        assert dataset.sample_points is None and dataset.weight == 1
    assert b.raw.voxel_size == Coordinate(4, 4, 4) and a.raw.voxel_size == Coordinate(8, 8, 8)
    np.testing.assert_array_equal(a.mask[a.mask.roi], data["cell_a.zarr"][2])
    assert b.mask is None and c.mask is None
    ok, message = config.verify()
    assert ok, message
    assert message == "SimpleDataSplitConfig 'simple': 3 datasets ok"
    explicit = config.to_train_validate()
    assert [d.name for d in explicit.train_configs] == ["cell_a", "more_cell_b"]
    # the original's validation group name
    test = SimpleDataSplitConfig("simple", root, validate_group_name="test")
    assert [d.name for d in test.validate_configs] == ["cell_d"]


def test_simple_datasplit_in_the_config_store(layout, options):
    from dacapo.store.create_store import create_config_store

    root, _ = layout
    config = SimpleDataSplitConfig("simple", root, gt_name="labels", mask_name="mask")
    store = create_config_store()
    store.store_datasplit_config(config)
    assert store.retrieve_datasplit_config("simple") == config


def test_simple_dataset_as_in_the_original(layout):
    from dacapo.experiments.datasplits.datasets import SimpleDataset

    root, data = layout
    dataset = SimpleDataset(name="cell_a", path=root / "train" / "cell_a.zarr")
    assert dataset.name == "cell_a" and dataset.mask is not None
    config = SimpleDatasetConfig("cell_a", path=root / "train" / "cell_a.zarr", weight=3)
    assert structure(unstructure(config), SimpleDatasetConfig) == config
    assert config.dataset().weight == 3
    assert config.verify()[0]


def test_simple_errors(layout, tmp_path):
    root, _ = layout

    def one_line(callable_):
        with pytest.raises(ConfigError) as exc_info:
            callable_()
        message = str(exc_info.value)
        assert "\n" not in message
        return message

    assert one_line(lambda: SimpleDataSplitConfig("s", tmp_path / "nope").train_configs) == (
        f"SimpleDataSplitConfig 's': path={tmp_path}/nope is not a directory"
    )
    (tmp_path / "train").mkdir()
    assert "has no 'validate' directory" in one_line(lambda: SimpleDataSplitConfig("s", tmp_path).validate_configs)
    assert "no container with a 'raw' dataset" in one_line(lambda: SimpleDataSplitConfig("s", tmp_path).train_configs)
    ok, message = SimpleDataSplitConfig("s", tmp_path).verify()
    assert not ok and message.startswith("SimpleDataSplitConfig 's': ")
    assert one_line(lambda: SimpleDataSplitConfig("s")) == "SimpleDataSplitConfig 's': path is required"
    assert one_line(lambda: SimpleDatasetConfig("d")) == "SimpleDatasetConfig 'd': path is required"
    write_array(tmp_path / "odd.zarr", "raw", np.zeros((4, 4, 4), np.int32), (1, 1, 1))
    write_array(tmp_path / "odd.zarr", "labels", np.zeros((4, 4, 4), np.uint8), (1, 1, 1))
    message = one_line(lambda: SimpleDatasetConfig("d", path=tmp_path / "odd.zarr").dataset())
    assert message.startswith("SimpleDatasetConfig 'd': raw_name='raw' has dtype int32")
    write_array(tmp_path / "odd.zarr", "raw", np.zeros((4, 4, 4), np.uint8), (1, 1, 1))
    write_array(tmp_path / "odd.zarr", "mask", np.zeros((4, 4, 4), np.float32), (1, 1, 1))
    assert "a mask must be integer" in one_line(lambda: SimpleDatasetConfig("d", path=tmp_path / "odd.zarr").dataset())
    ok, message = SimpleDatasetConfig("d", path=tmp_path / "missing.zarr").verify()
    assert not ok and "does not exist" in message


def test_dummy_datasplit():
    config = DummyDataSplitConfig("dummy")
    assert structure(unstructure(config), DummyDataSplitConfig) == config
    assert config.train_config == DummyDatasetConfig("dummy_dataset")
    datasplit = config.datasplit()
    assert datasplit.validate == []
    (dataset,) = datasplit.train
    assert dataset.name == "dummy_dataset" and dataset.mask is None
    assert dataset.raw.shape == (100, 100, 100) and dataset.gt.voxel_size == Coordinate(1, 1, 1)
    assert config.verify() == (True, "DummyDataSplitConfig 'dummy': 1 dataset ok")
    with pytest.raises(ConfigError, match=r"^DummyDataSplitConfig 'd': train_config=.* must be a dataset config$"):
        DummyDataSplitConfig("d", train_config="x")
