"""A DaCapo datasplit from the challenge layout (a crawl) or from the toolkit's datasplit CSV.

The crawl picks the crops annotating the requested classes, assigns each crop to ``train`` or
``validate`` (a seeded, reproducible draw of ``round(validation_ratio x crops)`` validation
crops, at least one of each kind when there are two crops or more) and optionally writes the
toolkit's CSV. :func:`datasplit_config` turns either into a normal
``TrainValidateDataSplitConfig`` with the ``DataSplitGenerator``: raw ``em/fibsem-uint8`` at the
scale level nearest ``input_resolution`` (normalised to [0, 1]), one binary channel per class
from the crop's per-class label groups, and a mask that excludes the classes a crop does not
annotate.

``force_all_classes`` (as in the toolkit): True keeps only crops annotating every class;
``"train"`` / ``"validate"``: only the crops of that usage must annotate every class; False:
crops annotating any of them.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Optional, Sequence, Union

from dacapo.config import ConfigError

from .layout import CropEntry, crawl, read_datasplit_csv, write_datasplit_csv

__all__ = ["split_crops", "make_datasplit_csv", "datasplit_config"]

ForceAll = Union[bool, str]


def split_crops(
    entries: Sequence[CropEntry],
    classes: Sequence[str],
    validation_ratio: float = 0.15,
    force_all_classes: ForceAll = False,
    seed: int = 0,
) -> list[tuple[str, CropEntry, tuple[str, ...]]]:
    """``(usage, crop, classes of the crop)`` for each kept crop (see the module doc)."""
    if not 0 <= validation_ratio <= 1:
        raise ConfigError(f"cellmap datasplit: validation_ratio={validation_ratio!r} must be in [0, 1]")
    if force_all_classes not in (True, False, "train", "validate"):
        raise ConfigError(
            f"cellmap datasplit: force_all_classes={force_all_classes!r} must be true, false, "
            "'train' or 'validate'"
        )
    entries = list(entries)
    complete = [e for e in entries if all(c in e.labels for c in classes)]
    pool = complete if force_all_classes is True else entries
    n = len(pool)
    num_val = round(validation_ratio * n)
    if n >= 2 and 0 < validation_ratio:
        num_val = min(max(num_val, 1), n - 1)
    rng = random.Random(seed)
    if force_all_classes == "validate":
        val = rng.sample(complete, min(num_val, len(complete)))
    elif force_all_classes == "train":
        train = rng.sample(complete, min(n - num_val, len(complete)))
        val = [e for e in pool if e not in train]
    else:
        val = rng.sample(pool, num_val)
    rows = []
    for entry in pool:
        usage = "validate" if entry in val else "train"
        rows.append((usage, entry, tuple(c for c in classes if c in entry.labels)))
    if not rows:
        raise ConfigError(
            f"cellmap datasplit: no crop annotates {'all' if force_all_classes else 'any'} of the "
            f"classes {list(classes)}"
        )
    return rows


def make_datasplit_csv(
    root: Union[str, Path],
    classes: Sequence[str],
    csv_path: Union[str, Path, None] = None,
    validation_ratio: float = 0.15,
    force_all_classes: ForceAll = False,
    datasets: Optional[Sequence[str]] = None,
    crops: Optional[Sequence[str]] = None,
    seed: int = 0,
):
    """Crawl ``root`` and split its crops; writes the toolkit CSV to ``csv_path`` if given.
    Returns the rows (see :func:`split_crops`)."""
    classes = list(classes)
    if not classes or len(set(classes)) != len(classes):
        raise ConfigError(f"cellmap datasplit: classes={classes!r} must be distinct class names")
    entries = crawl(root, classes=classes, datasets=datasets, crops=crops)
    if not entries:
        raise ConfigError(f"cellmap datasplit: no crop under root={root} annotates any of {classes}")
    rows = split_crops(entries, classes, validation_ratio, force_all_classes, seed)
    if csv_path is not None:
        write_datasplit_csv(rows, csv_path)
    return rows


def datasplit_config(
    source,
    classes: Sequence[str],
    input_resolution: Sequence[int],
    output_resolution: Optional[Sequence[int]] = None,
    name: str = "cellmap",
    **generator_kwargs,
):
    """A ``TrainValidateDataSplitConfig`` from rows (:func:`make_datasplit_csv`) or a toolkit
    CSV path. ``generator_kwargs`` go to the ``DataSplitGenerator`` (e.g.
    ``min_training_volume_size``, ``max_validation_volume_size``)."""
    from dacapo.experiments.datasplits.datasplit_generator import DatasetSpec, DataSplitGenerator

    if isinstance(source, (str, Path)):
        specs = read_datasplit_csv(source)
    else:
        specs = [
            DatasetSpec(
                "train" if usage == "train" else "val",
                entry.container,
                entry.raw_dataset,
                entry.container,
                f"{entry.crop_group}/[{','.join(crop_classes)}]",
            )
            for usage, entry, crop_classes in source
        ]
    generator_kwargs.setdefault("min_training_volume_size", 1)
    return DataSplitGenerator(
        name,
        specs,
        input_resolution,
        output_resolution if output_resolution is not None else input_resolution,
        targets=list(classes),
        classes_separator_character=",",
        **generator_kwargs,
    ).compute()
