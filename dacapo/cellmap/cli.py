"""``dacapo cellmap``: datasplits from the challenge layout, submissions, and their scores."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click

from dacapo.config import ConfigError


def _resolution(value):
    if value is None:
        return None
    parts = [int(v) for v in str(value).replace("x", ",").split(",") if v.strip()]
    return tuple(parts * 3) if len(parts) == 1 else tuple(parts)


def _force_all(value: str):
    return {"true": True, "false": False}.get(value.lower(), value.lower())


@click.group("cellmap")
def cellmap() -> None:
    """CellMap Segmentation Challenge: datasplits, submissions and scoring."""


@cellmap.command()
@click.argument("root", type=click.Path(exists=True, file_okay=False))
@click.option("-c", "--class", "classes", multiple=True, required=True, help="A class to train (repeat).")
@click.option("-r", "--resolution", required=True, help="Input (raw) resolution in nm: 8 or 8,8,8.")
@click.option("--output-resolution", default=None, help="Target resolution (default: the input's).")
@click.option("--validation-ratio", type=float, default=0.15, show_default=True)
@click.option("--force-all-classes", type=click.Choice(["true", "false", "train", "validate"], case_sensitive=False),
              default="false", show_default=True, help="Which crops must annotate every class.")
@click.option("--dataset", "datasets", multiple=True, help="Only these datasets (repeat).")
@click.option("--crop", "crops", multiple=True, help="Only these crops, e.g. crop12 or 12 (repeat).")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False), default=None,
              help="Write the toolkit's datasplit CSV here.")
@click.option("--from-csv", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Build from this toolkit CSV instead of crawling ROOT.")
@click.option("--name", default="cellmap", show_default=True, help="Datasplit name prefix.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--store/--no-store", default=True, show_default=True,
              help="Store the datasplit config in the config store.")
def datasplit(root, classes, resolution, output_resolution, validation_ratio, force_all_classes,
              datasets, crops, csv_path, from_csv, name, seed, store):
    """Build a DaCapo datasplit from the challenge layout under ROOT."""
    from .datasplit import datasplit_config, make_datasplit_csv

    if from_csv is not None:
        source = Path(from_csv)
    else:
        source = make_datasplit_csv(
            root, list(classes), csv_path, validation_ratio, _force_all(force_all_classes),
            datasets=list(datasets) or None, crops=list(crops) or None, seed=seed,
        )
    config = datasplit_config(source, list(classes), _resolution(resolution), _resolution(output_resolution), name=name)
    if store:
        from dacapo.store.create_store import create_config_store

        create_config_store().store_datasplit_config(config)
    click.echo(json.dumps({
        "datasplit": config.name,
        "train": [d.name for d in config.train_configs],
        "validate": [d.name for d in config.validate_configs],
        "csv": csv_path,
        "stored": store,
    }))


_ARRAY = re.compile(r"^(?P<crop>[^/=]+)/(?P<label>[^/=]+)=(?P<path>.+?\.(zarr|n5))/(?P<dataset>[^:]+)(:(?P<channel>\d+))?$")


@cellmap.command()
@click.option("-a", "--array", "arrays", multiple=True, required=True,
              help="CROP/LABEL=CONTAINER.zarr/DATASET[:CHANNEL] (repeat), e.g. "
                   "crop4/mito=out.zarr/prediction:0")
@click.option("-o", "--output", required=True, type=click.Path(), help="The submission zarr to write.")
@click.option("--truth", type=click.Path(exists=True), default=None,
              help="Challenge layout root: crop each array to its crop's ground-truth ROI.")
@click.option("--threshold", type=float, default=0.0, show_default=True,
              help="Float predictions: voxels > threshold are foreground.")
@click.option("--instance-class", "instance_classes", multiple=True,
              help="Instance classes (default: the challenge's).")
@click.option("--zip/--no-zip", "make_zip", default=True, show_default=True)
def submit(arrays, output, truth, threshold, instance_classes, make_zip):
    """Write processed predictions in the submission layout (<crop>/<label>) and zip them."""
    import numpy as np
    from funlib.geometry import Coordinate, Roi
    from funlib.persistence import open_ds

    from .evaluate import INSTANCE_CLASSES
    from .layout import truth_from_layout
    from .submission import crop_of_array, write_submission, zip_submission

    instance_classes = tuple(instance_classes) or INSTANCE_CLASSES
    parsed = []
    for text in arrays:
        match = _ARRAY.match(text)
        if match is None:
            raise ConfigError(f"cellmap submit: --array={text!r} is not CROP/LABEL=CONTAINER.zarr/DATASET[:CHANNEL]")
        parsed.append(match)
    rois = {}
    if truth is not None:
        for crop, labels in truth_from_layout(truth, crops=sorted({m["crop"] for m in parsed})).items():
            array, voxel_size, translation = next(iter(labels.values()))
            rois[crop] = Roi(
                Coordinate(int(t) for t in translation),
                Coordinate(array.shape) * Coordinate(int(v) for v in voxel_size),
            )
    predictions: dict = {}
    for m in parsed:
        array = open_ds(str(Path(m["path"]) / m["dataset"]))
        data, voxel_size, translation = crop_of_array(array, rois.get(m["crop"], array.roi))
        if m["channel"] is not None:
            data = data[int(m["channel"])]
        if data.ndim != len(voxel_size):
            raise ConfigError(
                f"cellmap submit: {m['path']}/{m['dataset']} has channels {data.shape[:-len(voxel_size)]}: "
                "pick one with :CHANNEL"
            )
        if not np.issubdtype(data.dtype, np.integer) or m["label"] not in instance_classes:
            data = data > threshold
        predictions.setdefault(m["crop"], {})[m["label"]] = (data, voxel_size, translation)
    path = write_submission(output, predictions, instance_classes=instance_classes)
    result = {"submission": str(path)}
    if make_zip:
        result["zip"] = str(zip_submission(path))
    click.echo(json.dumps(result))


@cellmap.command()
@click.argument("submission", type=click.Path(exists=True))
@click.option("--truth", required=True, type=click.Path(exists=True),
              help="Challenge layout root, or a zarr of <crop>/<label> ground-truth arrays "
                   "(<label>_mask arrays limit where <label> is scored).")
@click.option("--crop", "crops", multiple=True, help="Score these crops (default: every crop of --truth).")
@click.option("--instance-class", "instance_classes", multiple=True,
              help="Instance classes (default: the challenge's).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None, help="Also write the JSON here.")
def evaluate(submission, truth, crops, instance_classes, output):
    """Score a submission (zarr or zip) as the challenge's leaderboard does; prints JSON with
    per-crop counts and distances, pooled per-class scores and the overall scores."""
    from .evaluate import INSTANCE_CLASSES, json_safe, score_submission
    from .layout import dump_json, truth_from_layout

    truth_path = Path(truth)
    if truth_path.suffix in (".zarr", ".zip"):
        source = truth_path
        if crops:
            raise ConfigError("cellmap evaluate: --crop works with a layout root as --truth")
    else:
        source = truth_from_layout(truth_path, crops=list(crops) or None)
    result = json_safe(score_submission(submission, source, tuple(instance_classes) or INSTANCE_CLASSES))
    if output:
        dump_json(result, output)
    click.echo(json.dumps(result))
