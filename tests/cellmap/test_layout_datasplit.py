"""Crawl → toolkit CSV → DaCapo datasplit on a generated challenge layout; the submission zarr
and zip; the ``cellmap`` CLI."""

from __future__ import annotations

import csv
import json
import zipfile

import numpy as np
import pytest
import zarr
from click.testing import CliRunner

from dacapo.cellmap import (
    crawl,
    datasplit_config,
    make_datasplit_csv,
    read_datasplit_csv,
    score_submission,
    truth_from_layout,
    write_submission,
    zip_submission,
)
from dacapo.cellmap.cli import cellmap
from dacapo.cellmap.layout import read_level
from dacapo.cellmap.synthetic import write_challenge_layout
from dacapo.config import ConfigError

CLASSES = ["mito", "mito_mem", "ecs"]


@pytest.fixture(scope="module")
def layout(tmp_path_factory):
    root = tmp_path_factory.mktemp("cellmap") / "data"
    crops = write_challenge_layout(
        root, shape=(48, 48, 48), crops_per_dataset=3, crop_shape=(16, 16, 16), num_objects=6
    )
    return root, crops


def test_layout_on_disk(layout):
    root, crops = layout
    assert [c.crop for c in crops] == [f"crop{i}" for i in range(1, 7)]
    container = root / "jrc_synth-1" / "jrc_synth-1.zarr"
    raw, voxel_size, translation = read_level(container / "recon-1/em/fibsem-uint8", "s1")
    assert voxel_size == (16, 16, 16) and translation == (0, 0, 0) and raw.shape == (24, 24, 24)
    crop = crops[0]
    mito, voxel_size, translation = read_level(container / f"recon-1/labels/groundtruth/{crop.crop}/mito", 0)
    assert voxel_size == (8, 8, 8) and translation == crop.translation
    assert np.array_equal(mito[...], crop.labels["mito"])
    attrs = zarr.open_group(str(container / f"recon-1/labels/groundtruth/{crop.crop}/mito"), mode="r").attrs
    assert attrs["multiscales"][0]["axes"][0] == {"name": "z", "type": "space", "unit": "nanometer"}
    assert attrs["cellmap"]["annotation"]["annotation_type"]["type"] == "instance_segmentation"


def test_crawl_selects_crops_by_class_dataset_and_name(layout):
    root, _ = layout
    entries = crawl(root)
    assert [e.crop for e in entries] == [f"crop{i}" for i in range(1, 7)]
    assert entries[2].labels == ("ecs", "mito")  # every third crop lacks mito_mem
    assert [e.crop for e in crawl(root, classes=["mito_mem"])] == ["crop1", "crop2", "crop4", "crop5"]
    assert crawl(root, classes=["ecs", "mito"])[0].labels == ("ecs", "mito")  # in the asked order
    assert [e.crop for e in crawl(root, datasets=["jrc_synth-2"])] == ["crop4", "crop5", "crop6"]
    assert [e.crop for e in crawl(root, crops=["2", "crop5"])] == ["crop2", "crop5"]
    assert crawl(root, classes=["nuc"]) == []
    with pytest.raises(ConfigError, match="root="):
        crawl(root / "nowhere")


def test_datasplit_csv_in_the_toolkit_format(layout, tmp_path):
    root, _ = layout
    rows = make_datasplit_csv(root, CLASSES, tmp_path / "split.csv", validation_ratio=0.34, seed=3)
    with open(tmp_path / "split.csv", newline="") as f:
        lines = f.read().splitlines()
    assert len(lines) == 6 and all(line.startswith('"') and line.count('","') == 2 for line in lines)
    table = list(csv.reader(lines))
    assert sorted(r[0] for r in table) == ["train"] * 4 + ["validate"] * 2
    usage, raw, gt = table[2]
    assert raw == f"{root}/jrc_synth-1/jrc_synth-1.zarr/recon-1/em/fibsem-uint8"
    assert gt == f"{root}/jrc_synth-1/jrc_synth-1.zarr/recon-1/labels/groundtruth/crop3/[mito,ecs]"
    # reproducible; another seed may split differently but keeps the counts
    assert make_datasplit_csv(root, CLASSES, validation_ratio=0.34, seed=3) == rows
    specs = read_datasplit_csv(tmp_path / "split.csv")
    assert specs[2].raw_dataset == "recon-1/em/fibsem-uint8"
    assert specs[2].gt_dataset == "recon-1/labels/groundtruth/crop3/[mito,ecs]"
    assert [s.dataset_type.value for s in specs] == ["train" if r[0] == "train" else "val" for r in table]


def test_force_all_classes(layout):
    root, _ = layout
    rows = make_datasplit_csv(root, CLASSES, force_all_classes=True, validation_ratio=0.5)
    assert sorted(e.crop for _, e, _ in rows) == ["crop1", "crop2", "crop4", "crop5"]
    rows = make_datasplit_csv(root, CLASSES, force_all_classes="validate", validation_ratio=0.5)
    assert len(rows) == 6
    assert all(len(c) == 3 for u, _, c in rows if u == "validate")
    assert sum(u == "validate" for u, _, _ in rows) == 3
    rows = make_datasplit_csv(root, CLASSES, force_all_classes="train", validation_ratio=0.5)
    assert all(len(c) == 3 for u, _, c in rows if u == "train")
    with pytest.raises(ConfigError, match="force_all_classes"):
        make_datasplit_csv(root, CLASSES, force_all_classes="both")


def test_datasplit_config_reads_the_crops(layout, tmp_path):
    root, crops = layout
    make_datasplit_csv(root, CLASSES, tmp_path / "split.csv", validation_ratio=0.34, seed=3)
    config = datasplit_config(tmp_path / "split.csv", CLASSES, (8, 8, 8), name="synth")
    datasets = [*config.train_configs, *config.validate_configs]
    assert len(config.train_configs) == 4 and len(config.validate_configs) == 2
    by_crop = {c.crop: c for c in crops}
    for dataset in datasets:
        crop = by_crop[next(c for c in by_crop if f"_{c}_" in dataset.name)]
        gt = dataset.gt_config.array("r")
        assert gt.shape == (3, 16, 16, 16)
        assert tuple(gt.roi.offset) == crop.translation
        data = np.asarray(gt[gt.roi])
        if dataset.mask_config is None:  # a crop annotating every class
            assert all(cls in crop.labels for cls in CLASSES)
            masked = np.ones_like(data, dtype=bool)
        else:
            mask = dataset.mask_config.array("r")
            assert mask.shape == (3, 16, 16, 16)
            masked = np.asarray(mask[mask.roi])
        for i, cls in enumerate(CLASSES):
            if cls in crop.labels:
                assert np.array_equal(data[i], crop.labels[cls] > 0) and masked[i].all()
            else:
                assert not data[i].any() and not masked[i].any()
        raw = dataset.raw_config.array("r")
        assert raw.voxel_size == (8, 8, 8) and raw.dtype == np.float32
    # the same from the crawl's rows; a coarser scale picks s1 of raw and labels
    rows = make_datasplit_csv(root, CLASSES, validation_ratio=0.34, seed=3)
    coarse = datasplit_config(rows, CLASSES, (16, 16, 16), name="synth")
    raw = coarse.train_configs[0].raw_config.array("r")
    gt = coarse.train_configs[0].gt_config.array("r")
    assert raw.voxel_size == (16, 16, 16) and gt.shape == (3, 8, 8, 8)


def test_submission_layout_zip_and_perfect_score(layout, tmp_path):
    root, crops = layout
    test = crops[:2]
    predictions = {
        c.crop: {label: (data, c.voxel_size, c.translation) for label, data in c.labels.items()}
        for c in test
    }
    path = write_submission(tmp_path / "submission.zarr", predictions, instance_classes=["mito"])
    group = zarr.open_group(str(path), mode="r")
    assert sorted(group.group_keys()) == ["crop1", "crop2"]
    mito = group["crop1/mito"]
    assert mito.dtype == np.uint64 and group["crop1/ecs"].dtype == np.uint8
    assert mito.attrs["voxel_size"] == [8.0, 8.0, 8.0]
    assert mito.attrs["translation"] == [float(t) for t in test[0].translation]
    archive = zip_submission(path)
    with zipfile.ZipFile(archive) as z:
        names = set(z.namelist())
    assert {".zgroup", "crop1/.zgroup", "crop1/mito/.zarray", "crop1/mito/.zattrs", "crop2/ecs/.zarray"} <= names
    truth = truth_from_layout(root, crops=["crop1", "crop2"])
    result = score_submission(archive, truth, instance_classes=["mito"])
    assert result["overall_score"] == 1.0
    assert result["label_scores"]["mito"]["combined_score"] == 1.0
    # a class the crop annotates but the submission lacks scores 0
    del predictions["crop2"]["ecs"]
    write_submission(path, predictions, instance_classes=["mito"])
    result = score_submission(path, truth, instance_classes=["mito"])
    assert result["crops"]["crop2"]["ecs"]["iou"] == 0 and result["crops"]["crop2"]["ecs"]["is_missing"]
    # crop1 perfect, crop2 missing: every voxel of crop2 is a false negative
    ecs1 = int(np.count_nonzero(test[0].labels["ecs"]))
    assert result["crops"]["crop2"]["ecs"]["fn"] == test[1].labels["ecs"].size
    assert result["label_scores"]["ecs"]["iou"] == pytest.approx(ecs1 / (ecs1 + test[1].labels["ecs"].size))


def test_cli_datasplit_submit_evaluate(layout, tmp_path, options):
    root, crops = layout
    runner = CliRunner()
    result = runner.invoke(
        cellmap,
        ["datasplit", str(root), "-c", "mito", "-c", "ecs", "-r", "8", "--csv", str(tmp_path / "s.csv"),
         "--validation-ratio", "0.5", "--name", "cli"],
        catch_exceptions=False,
    )
    out = json.loads(result.output)
    assert len(out["train"]) == 3 and len(out["validate"]) == 3 and (tmp_path / "s.csv").is_file()
    from dacapo.store.create_store import create_config_store

    assert out["datasplit"] in create_config_store().retrieve_datasplit_config_names()

    # predictions in a funlib zarr (as DaCapo writes them): crop1's labels inside a larger array
    from funlib.geometry import Coordinate, Roi

    from dacapo.store.array_store import LocalArrayIdentifier
    from dacapo.utils.arrays import create_array

    crop = crops[0]
    roi = Roi(Coordinate(crop.translation) - 32, Coordinate(24, 24, 24) * 8)
    arrays = []
    for label in ("mito", "ecs"):
        array = create_array(LocalArrayIdentifier(tmp_path / "pred.zarr", label), roi, Coordinate(8, 8, 8), None, np.float32)
        data = np.full(array.shape, -1.0, np.float32)
        data[4:20, 4:20, 4:20] = np.where(crop.labels[label] > 0, 1.0, -1.0)
        array[roi] = data
        arrays += ["-a", f"crop1/{label}={tmp_path / 'pred.zarr'}/{label}"]
    result = runner.invoke(
        cellmap, ["submit", *arrays, "-o", str(tmp_path / "sub.zarr"), "--truth", str(root)], catch_exceptions=False
    )
    out = json.loads(result.output)
    assert zarr.open_group(out["submission"], mode="r")["crop1/mito"].shape == (16, 16, 16)
    result = runner.invoke(
        cellmap, ["evaluate", out["zip"], "--truth", str(root), "--crop", "crop1", "-o", str(tmp_path / "s.json")],
        catch_exceptions=False,
    )
    scores = json.loads(result.output)
    assert scores["label_scores"]["mito"]["combined_score"] == 1.0
    assert scores["label_scores"]["mito_mem"]["iou"] == 0.0  # not submitted
    assert json.loads((tmp_path / "s.json").read_text())["overall_score"] == scores["overall_score"]
    # a malformed --array is one clear error
    result = runner.invoke(cellmap, ["submit", "-a", "crop1-mito", "-o", str(tmp_path / "x.zarr")])
    assert result.exit_code != 0 and "--array='crop1-mito'" in str(result.exception)
