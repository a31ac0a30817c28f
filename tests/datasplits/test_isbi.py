"""The ISBI 2012 converter: metadata, section shapes, instance labels, the split + CSV that
the DataSplitGenerator reads. Runs on small synthetic PNG stacks, and on the real stack when
it is present."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import zarr
from funlib.geometry import Coordinate, Roi
from scipy.ndimage import label

from dacapo.experiments.datasplits import DataSplitGenerator
from dacapo.experiments.datasplits.datasets.arrays import ZarrArrayConfig
from dacapo.utils.isbi import convert_isbi2012, read_isbi2012, section_instances, write_isbi2012_split

REAL = Path("/work/shared/data/isbi2012")


def _write_pngs(root: Path, num: int = 6, size: int = 48, seed: int = 0):
    from PIL import Image

    rng = np.random.default_rng(seed)
    (root / "image").mkdir(parents=True)
    (root / "label").mkdir()
    raws, interiors = [], []
    for s in range(num):
        raw = rng.integers(0, 255, (size, size)).astype(np.uint8)
        interior = np.ones((size, size), dtype=bool)
        interior[:, rng.integers(5, size - 5)] = False  # membranes split each section
        interior[rng.integers(5, size - 5), :] = False
        Image.fromarray(raw).save(root / "image" / f"{s}.png")
        Image.fromarray(np.where(interior, 255, 0).astype(np.uint8)).save(root / "label" / f"{s}.png")
        raws.append(raw)
        interiors.append(interior)
    return np.stack(raws), np.stack(interiors)


def test_convert_synthetic_stack(tmp_path):
    raw, interior = _write_pngs(tmp_path / "src")
    volume = convert_isbi2012(tmp_path / "src", tmp_path / "out.zarr", sections=range(2, 5))
    assert volume.sections == (2, 3, 4) and volume.shape == (3, 48, 48)
    assert volume.offset == (100, 0, 0)
    assert volume.roi == Roi((100, 0, 0), (150, 192, 192))
    for dataset in ("raw", "labels", "membrane"):
        attrs = zarr.open_array(str(tmp_path / "out.zarr" / dataset), mode="r").attrs
        assert attrs["voxel_size"] == [50, 4, 4] and attrs["offset"] == [100, 0, 0]
        assert attrs["axis_names"] == ["z", "y", "x"] and attrs["units"] == ["nm"] * 3
        array = ZarrArrayConfig(dataset, tmp_path / "out.zarr", dataset).array()
        assert array.voxel_size == Coordinate(50, 4, 4) and array.roi == volume.roi
    read = lambda name: ZarrArrayConfig(name, tmp_path / "out.zarr", name).array()  # noqa: E731
    np.testing.assert_array_equal(read("raw")[volume.roi], raw[2:5])
    np.testing.assert_array_equal(read("membrane")[volume.roi], ~interior[2:5])
    labels = read("labels")[volume.roi]
    assert labels.dtype == np.uint64
    assert ((labels > 0) == interior[2:5]).all()
    assert volume.num_instances == labels.max() == 12  # 4 quadrants per section, numbered through
    for z in range(3):  # per-section connected components, ids unique across sections
        components, count = label(interior[2 + z])
        assert count == 4 == len(np.unique(labels[z][labels[z] > 0]))
        assert set(np.unique(labels[z][labels[z] > 0])) == set(range(4 * z + 1, 4 * z + 5))


def test_section_instances_is_4_connected():
    interior = np.zeros((1, 3, 3), dtype=bool)
    interior[0, 0, 0] = interior[0, 1, 1] = True  # diagonal neighbours: two cells
    assert section_instances(interior).max() == 2


def test_converter_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="image does not exist"):
        read_isbi2012(tmp_path)
    _write_pngs(tmp_path / "src", num=3, size=16)
    with pytest.raises(ValueError, match="contiguous"):
        convert_isbi2012(tmp_path / "src", tmp_path / "o.zarr", sections=[0, 2])
    with pytest.raises(FileNotFoundError, match=r"image/4.png does not exist"):
        read_isbi2012(tmp_path / "src", sections=range(4, 6))


def test_split_and_generator(tmp_path):
    _write_pngs(tmp_path / "src", num=6, size=32)
    train, validate, csv = write_isbi2012_split(tmp_path / "src", tmp_path / "out", range(0, 4), range(4, 6))
    assert validate.offset == (200, 0, 0)
    config = DataSplitGenerator.generate_from_csv(
        csv, (50, 4, 4), (50, 4, 4), targets=["membrane"], class_ids={"membrane": [0]},
        min_training_volume_size=0,
    ).compute()
    (t,), (v,) = config.datasplit().train, config.datasplit().validate
    assert t.raw.roi == Roi((0, 0, 0), (200, 128, 128)) and v.gt.roi == Roi((200, 0, 0), (100, 128, 128))
    assert t.gt.voxel_size == Coordinate(50, 4, 4) and t.gt.attrs["channel_names"] == ["membrane"]
    membrane = ZarrArrayConfig("m", validate.container, "membrane").array()
    np.testing.assert_array_equal(v.gt[v.gt.roi][0], membrane[membrane.roi])


@pytest.mark.skipif(not REAL.is_dir(), reason="the ISBI 2012 stack is not present")
def test_real_stack(tmp_path):
    volume = convert_isbi2012(REAL, tmp_path / "isbi.zarr", sections=range(20, 22))
    assert volume.shape == (2, 512, 512) and volume.offset == (1000, 0, 0)
    raw = ZarrArrayConfig("raw", tmp_path / "isbi.zarr", "raw").array()
    assert raw.dtype == np.uint8 and raw.voxel_size == Coordinate(50, 4, 4)
    assert raw.roi == Roi((1000, 0, 0), (100, 2048, 2048))
    membrane = ZarrArrayConfig("m", tmp_path / "isbi.zarr", "membrane").array()
    fraction = membrane[membrane.roi].mean()
    assert 0.1 < fraction < 0.4  # membranes are a minority of the pixels
    assert volume.num_instances > 50  # many cells per section
