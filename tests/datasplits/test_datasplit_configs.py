"""Config round trips through the converter (and YAML), field normalisation, light imports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from funlib.geometry import Coordinate
from hypothesis import given, settings
from hypothesis import strategies as st

from dacapo.config import ConfigError
from dacapo.experiments.datasplits import DataSplitConfig, TrainValidateDataSplitConfig
from dacapo.experiments.datasplits.datasets import DatasetConfig, RawGTDatasetConfig
from dacapo.experiments.datasplits.datasets.arrays import (
    ArrayConfig,
    BinarizeArrayConfig,
    IntensitiesArrayConfig,
    MissingAnnotationsMaskConfig,
    ResampledArrayConfig,
    ZarrArrayConfig,
)
from dacapo.store.converter import structure, unstructure


def _zarr(name="raw", **kwargs):
    return ZarrArrayConfig(name=name, file_name="/data/c.n5", dataset="volumes/raw/s1", **kwargs)


def _roundtrip(config, declared):
    data = unstructure(config)
    text = yaml.safe_dump(data)  # plain YAML types only (lists, not tuples)
    again = structure(yaml.safe_load(text), declared)
    assert again == config
    assert type(again) is type(config)
    return data


def test_normalisation():
    config = _zarr(snap_to_grid=[16, 16, 16], axes=("z", "y", "x"))
    assert isinstance(config.file_name, Path)
    assert config.snap_to_grid == Coordinate(16, 16, 16)
    assert isinstance(config.snap_to_grid, Coordinate)
    assert config.axes == ["z", "y", "x"]
    binarize = BinarizeArrayConfig("gt", config, groupings=[["peroxisome", (47, 48)]])
    assert binarize.groupings == [("peroxisome", [47, 48])]
    resampled = ResampledArrayConfig("r", config, (0, 0, 0), [2, 2, 2], False)
    assert resampled.downsample == Coordinate(2, 2, 2)
    assert resampled.down_factors == Coordinate(2, 2, 2)
    assert resampled.up_factors == Coordinate(1, 1, 1)
    dataset = RawGTDatasetConfig("d", 1, config, binarize, sample_points=[(1, 2, 3)])
    assert dataset.sample_points == [Coordinate(1, 2, 3)]
    split = TrainValidateDataSplitConfig("s", (dataset,), (dataset,))
    assert split.train_configs == [dataset]


def test_roundtrip_every_class():
    zarr_config = _zarr(snap_to_grid=(16, 16, 16), axes=["z", "y", "x"], voxel_size=(8, 8, 8))
    resampled = ResampledArrayConfig("rs", zarr_config, (0, 0, 0), (2, 2, 2), False)
    configs = [
        zarr_config,
        _zarr(),
        IntensitiesArrayConfig("i", zarr_config, min=0.0, max=255.0),
        BinarizeArrayConfig("b", resampled, [("peroxisome", [47, 48]), ("all", [])], background=0),
        resampled,
        ResampledArrayConfig("rs1", zarr_config, (2, 2, 2), (0, 0, 0), 1),
        ResampledArrayConfig("rs2", zarr_config, (2, 2, 2), (0, 0, 0), True),
        MissingAnnotationsMaskConfig("m", resampled, [("peroxisome", [47, 48])]),
    ]
    for config in configs:
        data = _roundtrip(config, ArrayConfig)
        assert data["__type__"] == type(config).__name__
    dataset = RawGTDatasetConfig("d", 2, configs[2], configs[3], configs[7], [(8, 8, 8)])
    _roundtrip(dataset, DatasetConfig)
    _roundtrip(RawGTDatasetConfig("d2", 1, configs[2], configs[3]), DatasetConfig)
    split = TrainValidateDataSplitConfig("split", [dataset], [dataset])
    data = yaml.safe_load(yaml.safe_dump(_roundtrip(split, DataSplitConfig)))
    assert data["train_configs"][0]["gt_config"]["groupings"] == [["peroxisome", [47, 48]], ["all", []]]


def test_interp_order_keeps_its_type():
    for order in (False, True, 0, 1, 3):
        config = ResampledArrayConfig("r", _zarr(), (0, 0, 0), (2, 2, 2), order)
        again = structure(unstructure(config), ArrayConfig)
        assert again.interp_order == order and type(again.interp_order) is type(order)


@settings(max_examples=40, deadline=None)
@given(
    snap=st.none() | st.tuples(*[st.integers(1, 64)] * 3),
    down=st.tuples(*[st.integers(0, 4)] * 3),
    up=st.tuples(*[st.integers(0, 4)] * 3),
    order=st.sampled_from([False, True, 0, 1, 2]),
    lo=st.floats(-1e3, 1e3, allow_nan=False),
    span=st.floats(1e-3, 1e3, allow_nan=False),
    groups=st.lists(
        st.tuples(st.text("abcxyz_", min_size=1, max_size=5), st.lists(st.integers(0, 2**40), max_size=4)),
        min_size=1,
        max_size=4,
        unique_by=lambda g: g[0],
    ),
    background=st.integers(-5, 5),
    weight=st.integers(1, 10),
)
def test_roundtrip_property(snap, down, up, order, lo, span, groups, background, weight):
    source = _zarr(snap_to_grid=snap)
    raw = IntensitiesArrayConfig("raw", source, min=lo, max=lo + span)
    resampled = ResampledArrayConfig("rs", source, up, down, order)
    gt = BinarizeArrayConfig("gt", resampled, groups, background=background)
    mask = MissingAnnotationsMaskConfig("mask", resampled, groups)
    dataset = RawGTDatasetConfig("d", weight, raw, gt, mask)
    split = TrainValidateDataSplitConfig("s", [dataset], [])
    _roundtrip(split, DataSplitConfig)


def test_structure_errors_are_one_line():
    data = unstructure(BinarizeArrayConfig("gt", _zarr(), [("p", [47])]))
    data["groupings"] = [["p", 47]]
    with pytest.raises(ConfigError) as exc_info:
        structure(data, ArrayConfig)
    assert "\n" not in str(exc_info.value) and "gt" in str(exc_info.value)
    data = unstructure(_zarr())
    data["snap_to_grid"] = [16, 16.5, 16]
    with pytest.raises(ConfigError, match="snap_to_grid"):
        structure(data, ArrayConfig)


def test_dataset_and_datasplit_field_errors():
    raw = _zarr()
    with pytest.raises(ConfigError, match=r"^RawGTDatasetConfig 'd': gt_config is required$"):
        RawGTDatasetConfig("d", 1, raw_config=raw)
    with pytest.raises(ConfigError, match=r"^RawGTDatasetConfig 'd': mask_config=.* must be an array config"):
        RawGTDatasetConfig("d", 1, raw, raw, mask_config="mask")
    dataset = RawGTDatasetConfig("d", 1, raw, raw)
    with pytest.raises(ConfigError, match=r"^TrainValidateDataSplitConfig 's': train_configs=.*dataset configs"):
        TrainValidateDataSplitConfig("s", [raw], [])
    with pytest.raises(ConfigError, match=r"duplicate dataset names \['d'\]"):
        TrainValidateDataSplitConfig("s", [dataset, dataset], [])


def test_config_modules_import_light():
    # the time itself is measured by benchmarks/bench_import.py; here: nothing heavy is loaded
    code = (
        "import sys;"
        "import dacapo.experiments.datasplits.datasets.arrays, dacapo.experiments.datasplits;"
        "heavy = [m for m in ('dask', 'zarr', 'torch', 'funlib.persistence', 'scipy') if m in sys.modules];"
        "assert not heavy, heavy"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
