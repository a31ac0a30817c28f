"""The seed tutorial's datasplit block (examples/tutorial/tutorial.py: seeds/000 unchanged but for
the container paths) against ``write_tutorial_layout`` data; RawGTDataset and
TrainValidateDataSplit."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest
from funlib.geometry import Coordinate, Roi

from dacapo.config import ConfigError
from dacapo.store.converter import structure, unstructure


TUTORIAL_DIR = Path(__file__).resolve().parents[2] / "examples" / "tutorial"


def tutorial_datasplit_config(raw_container, gt_container, runs_dir):
    """The datasplit of examples/tutorial/tutorial.py (the seed's code), built by running its
    config section; the configs it stores go to ``runs_dir``."""
    spec = importlib.util.spec_from_file_location("tutorial_setup04", TUTORIAL_DIR / "setup04.py")
    setup04 = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(setup04)
    saved = {k: os.environ.get(k) for k in ("DACAPO_RUNS_BASE_DIR", "DACAPO_TYPE", "DACAPO_OPTIONS_FILE")}
    os.environ.update(
        DACAPO_RUNS_BASE_DIR=str(runs_dir), DACAPO_TYPE="files",
        DACAPO_OPTIONS_FILE=str(Path(runs_dir) / "none.yaml"),
    )
    try:
        return setup04.tutorial_configs(raw_container, gt_container)["datasplit_config"]
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="module")
def tutorial(tutorial_layout, tmp_path_factory):
    config = tutorial_datasplit_config(
        str(tutorial_layout.raw_container), str(tutorial_layout.gt_container),
        tmp_path_factory.mktemp("runs"),
    )
    return tutorial_layout, config


def test_tutorial_datasplit_builds(tutorial):
    layout, config = tutorial
    assert config.verify() == (True, f"TrainValidateDataSplitConfig {config.name!r}: 3 datasets ok")
    assert structure(unstructure(config), type(config)) == config
    datasplit = config.datasplit_type(config)
    assert [d.name for d in datasplit.train] == [
        "jrc_mus-liver_124_peroxisome_8nm",
        "jrc_mus-liver_125_peroxisome_8nm",
    ]
    assert [d.name for d in datasplit.validate] == ["jrc_mus-liver_145_peroxisome_8nm"]
    for dataset in datasplit.train + datasplit.validate:
        crop = int(dataset.name.split("_")[2])
        assert dataset.weight == 1
        assert dataset.sample_points is None
        raw, gt, mask = dataset.raw, dataset.gt, dataset.mask
        assert raw.voxel_size == Coordinate(16, 16, 16)  # s1 of an 8 nm dataset
        assert gt.voxel_size == Coordinate(8, 8, 8)  # 4 nm crops downsampled (2, 2, 2)
        assert mask.voxel_size == Coordinate(8, 8, 8)
        assert raw.dtype == np.float32 and gt.dtype == np.uint8 and mask.dtype == np.uint8
        assert gt.axis_names == ["c^", "z", "y", "x"] and mask.axis_names == ["c^", "z", "y", "x"]
        assert gt.attrs["channel_names"] == ["peroxisome"]
        # raw snapped to 16 nm; the crop is on the 16 nm grid inside it
        assert raw.roi == layout.raw_roi.snap_to_grid((16, 16, 16), mode="shrink")
        assert gt.roi == layout.crop_rois[crop] == mask.roi
        assert raw.roi.contains(gt.roi)
        # values against the numpy ground truth
        labels = layout.labels[crop]
        expected = np.isin(labels[::2, ::2, ::2], [47, 48]).astype(np.uint8)
        np.testing.assert_array_equal(gt[gt.roi][0], expected)
        assert expected.sum() > 0  # each crop holds peroxisomes
        assert (mask[mask.roi] == 1).all()
        begin = (gt.roi.begin - layout.raw_roi.begin) / 16
        end = (gt.roi.end - layout.raw_roi.begin) / 16
        raw_crop = layout.raw[tuple(slice(b, e) for b, e in zip(begin, end))]
        np.testing.assert_allclose(raw[gt.roi], raw_crop / np.float32(255), rtol=1e-6)


def test_tutorial_geometry_suits_the_tutorial_architecture(tutorial):
    """The tutorial's U-Net (upsample_factors=[(2, 2, 2)]) reads raw at 16 nm and predicts at
    8 nm: 216³ raw voxels in, 68³ voxels of 8 nm out for training; 288³ in, 212³ out for
    validation. Every training crop holds a whole training output, one validation output block
    covers the validation crop, and the raw around each crop is on the same grid."""
    layout, config = tutorial
    datasplit = config.datasplit_type(config)
    training_output = Coordinate(68, 68, 68) * 8  # 544 nm
    validation_output = Coordinate(212, 212, 212) * 8
    for dataset in datasplit.train + datasplit.validate:
        raw, gt, mask = dataset.raw, dataset.gt, dataset.mask
        assert raw.voxel_size == Coordinate(16, 16, 16)
        assert gt.voxel_size == mask.voxel_size == Coordinate(8, 8, 8)
        assert raw.voxel_size == gt.voxel_size * 2  # the architecture's upsample factor
        assert raw.roi.contains(gt.roi)
        assert gt.roi == gt.roi.snap_to_grid(raw.voxel_size)  # the crop is on the raw grid
    for dataset in datasplit.train:
        roi = dataset.gt.roi
        assert all(s >= t for s, t in zip(roi.shape, training_output)), roi
        # a 544 nm cube on the 8 nm grid fits inside (the trainer samples such a block)
        cube = Roi(roi.begin, training_output)
        assert roi.contains(cube) and cube == cube.snap_to_grid(dataset.gt.voxel_size)
        assert dataset.mask[cube].sum() == cube.size // 8**3  # fully annotated
    (validation,) = datasplit.validate
    assert all(s <= t for s, t in zip(validation.gt.roi.shape, validation_output))
    # gt of the two training crops differs (two different crops)
    assert datasplit.train[0].gt.roi != datasplit.train[1].gt.roi


def test_tutorial_data_is_learnable(tutorial):
    """Peroxisomes are brighter than their surroundings in raw (a model can learn them)."""
    layout, config = tutorial
    datasplit = config.datasplit_type(config)
    dataset = datasplit.train[0]
    raw = dataset.raw[dataset.gt.roi]  # 16 nm
    gt = dataset.gt[dataset.gt.roi][0].astype(bool)  # 8 nm
    assert raw.shape == tuple(s // 2 for s in gt.shape)
    gt = gt[::2, ::2, ::2]  # a label per raw voxel
    assert raw[gt].mean() > raw[~gt].mean() + 0.15


def test_unannotated_crop_is_masked(tmp_path):
    from dacapo.utils.synthetic import CropSpec, write_tutorial_layout

    layout = write_tutorial_layout(
        tmp_path / "c.n5",
        raw_shape=(32, 32, 32),
        crops=[CropSpec(7, offset=(64, 64, 64), shape=(32, 32, 32), annotated=(3, 4))],
    )
    config = tutorial_datasplit_config(str(layout.raw_container), str(layout.gt_container), tmp_path / "runs")
    dataset_config = config.train_configs[0]
    import attrs

    def retarget(array_config):
        if hasattr(array_config, "dataset"):
            return attrs.evolve(array_config, dataset=layout.gt_datasets[7])
        return attrs.evolve(array_config, source_array_config=retarget(array_config.source_array_config))

    dataset_config = attrs.evolve(
        dataset_config,
        gt_config=retarget(dataset_config.gt_config),
        mask_config=retarget(dataset_config.mask_config),
    )
    dataset = dataset_config.dataset_type(dataset_config)
    assert dataset.gt.roi == Roi((64, 64, 64), (128, 128, 128))
    assert (dataset.mask[dataset.mask.roi] == 0).all()


def test_dataset_without_mask(tutorial):
    layout, config = tutorial
    import attrs

    dataset_config = attrs.evolve(config.validate_configs[0], mask_config=None, weight=3)
    dataset = dataset_config.dataset_type(dataset_config)
    assert dataset.mask is None and dataset.weight == 3
    assert dataset_config.verify()[0]


def test_verify_failures(tutorial, tmp_path):
    layout, config = tutorial
    import attrs

    dataset_config = config.train_configs[0]
    missing_raw = attrs.evolve(
        dataset_config,
        raw_config=attrs.evolve(
            dataset_config.raw_config,
            source_array_config=attrs.evolve(
                dataset_config.raw_config.source_array_config, file_name=tmp_path / "nope.n5"
            ),
        ),
    )
    ok, message = missing_raw.verify()
    assert not ok and "\n" not in message
    assert "RawGTDatasetConfig 'jrc_mus-liver_124_peroxisome_8nm': raw_config:" in message
    assert f"file_name={tmp_path}/nope.n5 does not exist" in message
    split = attrs.evolve(config, train_configs=[missing_raw])
    ok, message = split.verify()
    assert not ok and "does not exist" in message
    with pytest.raises(ConfigError, match="does not exist"):
        split.datasplit_type(split)

    # gt at 4 nm with raw at 6 nm: incompatible voxel sizes
    raw6 = attrs.evolve(
        dataset_config.raw_config,
        source_array_config=attrs.evolve(
            dataset_config.raw_config.source_array_config, voxel_size=(6, 6, 6), snap_to_grid=None
        ),
    )
    gt4 = dataset_config.gt_config.source_array_config.source_array_config
    from dacapo.experiments.datasplits.datasets.arrays import BinarizeArrayConfig

    odd = attrs.evolve(
        dataset_config,
        raw_config=raw6,
        gt_config=BinarizeArrayConfig("gt4", gt4, [("peroxisome", [47, 48])]),
        mask_config=None,
    )
    ok, message = odd.verify()
    assert not ok and "incompatible" in message

    # a mask at another voxel size than the gt
    bad_mask = attrs.evolve(dataset_config, gt_config=odd.gt_config)
    ok, message = bad_mask.verify()
    assert not ok and "mask voxel size" in message


def test_runtime_classes_exported():
    from dacapo.experiments.datasplits import DataSplit, TrainValidateDataSplit
    from dacapo.experiments.datasplits.datasets import Dataset, RawGTDataset

    assert issubclass(TrainValidateDataSplit, DataSplit)
    assert issubclass(RawGTDataset, Dataset)


def test_tutorial_datasplit_in_the_config_store(tutorial, options):
    from dacapo.store.create_store import create_config_store

    layout, config = tutorial
    config_store = create_config_store()
    config_store.store_datasplit_config(config)
    config_store.store_datasplit_config(config)  # same content again: a no-op
    assert config_store.retrieve_datasplit_config(config.name) == config
