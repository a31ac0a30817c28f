"""The CellMap Segmentation Challenge data layout (seed 004) and its datasplit CSV.

Layout (the toolkit's ``SEARCH_PATH``, ``RAW_NAME`` and ``CROP_NAME``)::

    <root>/<dataset>/<dataset>.zarr/recon-1/em/fibsem-uint8/s0 .. sN
    <root>/<dataset>/<dataset>.zarr/recon-1/labels/groundtruth/<crop>/<label>/s0 .. sN

Each ``em/fibsem-uint8`` and ``<label>`` group is an OME-NGFF (0.4) multiscale group whose
``multiscales[0].datasets[i].coordinateTransformations`` give the level's ``scale`` (voxel size,
nm, z y x) and ``translation`` (nm). DaCapo reads the translation as the world position of the
level's first voxel (its ROI offset), as the toolkit's resampling does.

The toolkit's datasplit CSV has one quoted row per crop::

    "train","<root>/<ds>/<ds>.zarr/recon-1/em/fibsem-uint8","<root>/<ds>/<ds>.zarr/recon-1/labels/groundtruth/crop1/[mito,ecs]"

(usage ``train``/``validate``; the classes of the crop in brackets, comma separated).
"""

from __future__ import annotations

import csv
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional, Sequence, Union

import numpy as np

from dacapo.config import ConfigError

RAW_NAME = "em/fibsem-uint8"
CROP_NAME = "labels/groundtruth/{crop}/{label}"
RECON = "recon-1"
#: label groups in a crop that are not classes
NON_CLASS_LABELS = frozenset({"all"})

__all__ = [
    "RAW_NAME",
    "CROP_NAME",
    "CropEntry",
    "crawl",
    "write_multiscale",
    "read_level",
    "read_datasplit_csv",
    "write_datasplit_csv",
    "crop_sort_key",
    "truth_from_layout",
]


def crop_sort_key(crop: str):
    digits = re.sub(r"\D", "", crop)
    return (int(digits) if digits else -1, crop)


@dataclass(frozen=True)
class CropEntry:
    """One ground-truth crop found in the layout."""

    dataset: str
    crop: str
    container: Path  # <root>/<dataset>/<dataset>.zarr
    labels: tuple[str, ...]  # the classes annotated in this crop

    @property
    def raw_dataset(self) -> str:
        return f"{RECON}/{RAW_NAME}"

    @property
    def crop_group(self) -> str:
        return f"{RECON}/" + CROP_NAME.format(crop=self.crop, label="").rstrip("/")

    def label_dataset(self, label: str) -> str:
        return f"{RECON}/" + CROP_NAME.format(crop=self.crop, label=label)

    @property
    def raw_path(self) -> str:
        return f"{self.container}/{self.raw_dataset}"

    def gt_path(self, classes: Sequence[str]) -> str:
        return f"{self.container}/{self.crop_group}/[{','.join(classes)}]"


# --- OME-NGFF multiscale groups -------------------------------------------------------------------
def write_multiscale(
    group_path: Union[str, Path],
    levels: Sequence[np.ndarray],
    voxel_sizes: Sequence[Sequence[float]],
    translations: Sequence[Sequence[float]],
    *,
    chunks: int = 64,
    attrs: Optional[dict] = None,
) -> None:
    """Write ``levels`` as ``s0..sN`` of an OME-NGFF 0.4 multiscale group (z y x, nanometer)."""
    import zarr

    group = zarr.open_group(str(group_path), mode="a")
    datasets = []
    for i, (data, scale, translation) in enumerate(zip(levels, voxel_sizes, translations)):
        group.create_dataset(
            f"s{i}", data=data, chunks=tuple(min(chunks, s) for s in data.shape), overwrite=True
        )
        datasets.append(
            {
                "path": f"s{i}",
                "coordinateTransformations": [
                    {"type": "scale", "scale": [float(v) for v in scale]},
                    {"type": "translation", "translation": [float(t) for t in translation]},
                ],
            }
        )
    group.attrs.update(
        {
            "multiscales": [
                {
                    "version": "0.4",
                    "name": Path(str(group_path)).name,
                    "axes": [{"name": a, "type": "space", "unit": "nanometer"} for a in "zyx"],
                    "datasets": datasets,
                    "coordinateTransformations": [{"type": "scale", "scale": [1.0, 1.0, 1.0]}],
                }
            ],
            **(attrs or {}),
        }
    )


def _multiscale_datasets(group) -> list[dict]:
    for multiscale in group.attrs.get("multiscales", []) or []:
        if multiscale.get("datasets"):
            return list(multiscale["datasets"])
    return []


def _transform(entry: dict, kind: str) -> Optional[list[float]]:
    for transform in entry.get("coordinateTransformations", []) or []:
        if transform.get("type") == kind:
            return [float(v) for v in transform[kind]]
    return None


def read_level(group_path: Union[str, Path], level: Union[int, str] = 0):
    """``(zarr array, voxel size, translation)`` of level ``level`` (index or ``s<i>`` name) of a
    multiscale group, or of the plain array at ``group_path`` (funlib ``voxel_size``/``offset``
    or toolkit ``voxel_size``/``translation`` attributes)."""
    import zarr

    node = zarr.open(str(group_path), mode="r")
    if isinstance(node, zarr.Array):
        attrs = dict(node.attrs)
        voxel_size = attrs.get("voxel_size") or attrs.get("resolution")
        translation = attrs.get("translation", attrs.get("offset"))
        if voxel_size is None:
            raise ConfigError(f"cellmap: array {group_path} has no voxel_size attribute")
        translation = translation if translation is not None else [0] * len(voxel_size)
        return node, tuple(float(v) for v in voxel_size), tuple(float(t) for t in translation)
    entries = _multiscale_datasets(node)
    if not entries:
        raise ConfigError(f"cellmap: {group_path} is a group without OME-NGFF multiscales metadata")
    if isinstance(level, str):
        matches = [e for e in entries if e.get("path") == level]
        if not matches:
            raise ConfigError(f"cellmap: {group_path} has no level {level!r}")
        entry = matches[0]
    else:
        if not 0 <= level < len(entries):
            raise ConfigError(f"cellmap: {group_path} has {len(entries)} levels, asked for {level}")
        entry = entries[level]
    scale = _transform(entry, "scale")
    translation = _transform(entry, "translation") or [0.0] * len(scale)
    return node[entry["path"]], tuple(scale), tuple(translation)


# --- crawling ---------------------------------------------------------------------------------------
def _subdirs(path: Path) -> list[str]:
    if not path.is_dir():
        return []
    return sorted(p.name for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))


def crawl(
    root: Union[str, Path],
    classes: Optional[Sequence[str]] = None,
    datasets: Optional[Sequence[str]] = None,
    crops: Optional[Sequence[str]] = None,
) -> list[CropEntry]:
    """Every crop under ``root`` that annotates at least one of ``classes`` (None: any class),
    restricted to ``datasets`` / ``crops`` (names like ``crop12``, or ids like ``12``)."""
    root = Path(root).expanduser()
    if not root.is_dir():
        raise ConfigError(f"cellmap crawl: root={root} is not a directory")
    wanted_crops = None if crops is None else {_crop_name(c) for c in crops}
    entries = []
    for dataset in _subdirs(root):
        if datasets is not None and dataset not in datasets:
            continue
        container = root / dataset / f"{dataset}.zarr"
        if not (container / RECON / RAW_NAME).is_dir():
            continue
        groundtruth = container / RECON / "labels" / "groundtruth"
        for crop in sorted(_subdirs(groundtruth), key=crop_sort_key):
            if wanted_crops is not None and crop not in wanted_crops:
                continue
            labels = tuple(
                label
                for label in _subdirs(groundtruth / crop)
                if label not in NON_CLASS_LABELS and (classes is None or label in classes)
            )
            if classes is not None:
                labels = tuple(c for c in classes if c in labels)
            if labels:
                entries.append(CropEntry(dataset, crop, container, labels))
    return entries


def _crop_name(crop: Union[str, int]) -> str:
    text = str(crop)
    return f"crop{text}" if text.isdigit() else text


# --- the toolkit's datasplit CSV ----------------------------------------------------------------------
_GT_PATH = re.compile(r"^(?P<container>.+?\.zarr)/(?P<group>.*?)/?\[(?P<classes>[^\]]*)\]/?$")
_RAW_PATH = re.compile(r"^(?P<container>.+?\.zarr)/(?P<dataset>.+)$")
USAGES = {"train": "train", "validate": "validate", "val": "validate", "validation": "validate"}


def write_datasplit_csv(rows: Iterable[tuple[str, CropEntry, Sequence[str]]], path: Union[str, Path]) -> Path:
    """Write ``(usage, crop, classes)`` rows in the toolkit's format (atomically)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", newline="") as f:
        writer = csv.writer(f, quoting=csv.QUOTE_ALL, lineterminator="\n")
        for usage, entry, classes in rows:
            writer.writerow([usage, entry.raw_path, entry.gt_path(classes)])
    os.replace(tmp, path)
    return path


def read_datasplit_csv(path: Union[str, Path]):
    """The rows of a toolkit datasplit CSV as DaCapo ``DatasetSpec`` s (gt dataset
    ``<crop group>/[a,b]``: use the generator with ``classes_separator_character=","``)."""
    from dacapo.experiments.datasplits.datasplit_generator import (
        DatasetSpec,
        read_csv_rows,
        resolve_container,
    )

    base, rows = read_csv_rows(path, "cellmap datasplit", ("usage", "raw path", "gt path"))
    specs = []
    for line, row in rows:
        usage = USAGES.get(row[0].lower())
        raw = _RAW_PATH.match(row[1])
        gt = _GT_PATH.match(row[2])
        if usage is None or raw is None or gt is None:
            bad = "usage" if usage is None else "raw path" if raw is None else "gt path"
            value = row[0] if usage is None else row[1] if raw is None else row[2]
            raise ConfigError(
                f"cellmap datasplit: csv_path={path} line {line}: bad {bad} {value!r} "
                "(expected train|validate, <x>.zarr/<raw>, <x>.zarr/<crop group>/[class,...])"
            )
        specs.append(
            DatasetSpec(
                "train" if usage == "train" else "val",
                resolve_container(raw["container"], base),
                raw["dataset"],
                resolve_container(gt["container"], base),
                f"{gt['group']}/[{gt['classes']}]",
                row=line,
            )
        )
    return specs


def label_attrs(class_name: str, instance: bool) -> dict:
    """The ``cellmap.annotation`` attributes the challenge data carries on a label group."""
    kind = "instance_segmentation" if instance else "semantic_segmentation"
    return {
        "cellmap": {
            "annotation": {
                "class_name": class_name,
                "annotation_type": {"type": kind, "encoding": {"absent": 0}},
            }
        }
    }


def dump_json(data, path: Union[str, Path]) -> None:
    """Write JSON atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=2, allow_nan=False)
    os.replace(tmp, path)


def truth_from_layout(
    root: Union[str, Path],
    crops: Optional[Sequence[str]] = None,
    classes: Optional[Sequence[str]] = None,
    level: Union[int, str] = 0,
) -> dict:
    """``{crop: {label: (zarr array, voxel size, translation)}}`` of the ground truth of the
    layout's crops (level ``level``), for :func:`dacapo.cellmap.evaluate.score_submission`."""
    truth: dict = {}
    for entry in crawl(root, classes=classes, crops=crops):
        if entry.crop in truth:
            raise ConfigError(f"cellmap: crop {entry.crop} appears in two datasets under {root}")
        truth[entry.crop] = {
            label: read_level(entry.container / entry.label_dataset(label), level)
            for label in entry.labels
        }
    if crops is not None:
        missing = sorted({_crop_name(c) for c in crops} - set(truth))
        if missing:
            raise ConfigError(f"cellmap: crops {missing} not found under {root}")
    return truth
