"""Runtime of ``MissingAnnotationsMaskConfig``."""

from __future__ import annotations

from typing import Any, Optional

from functools import partial

import numpy as np
from funlib.geometry import Coordinate, Roi
from funlib.persistence import Array

from .array_utils import computed_from


def _annotation(attrs: Any) -> Optional[dict]:
    try:
        annotation = (attrs.get("cellmap") or {}).get("annotation")
    except Exception:
        return None
    if isinstance(annotation, dict) and (
        "class_ids_annotated" in annotation or "class_ids_unannotated" in annotation
    ):
        return annotation
    return None


def _zarr_source(config):
    """The ``ZarrArrayConfig`` at the bottom of a chain of single-source array configs."""
    from .zarr_array_config import ZarrArrayConfig

    seen = 0
    while config is not None and seen < 64:
        if isinstance(config, ZarrArrayConfig):
            return config
        config = getattr(config, "source_array_config", None)
        seen += 1
    return None


def annotated_groups(groupings, annotation: Optional[dict]) -> list[bool]:
    """Whether each group is annotated, given a ``cellmap.annotation`` dict (None: all are)."""
    if annotation is None:
        return [True] * len(groupings)
    annotated = annotation.get("class_ids_annotated")
    annotated = None if annotated is None else {int(i) for i in annotated}
    unannotated = {int(i) for i in annotation.get("class_ids_unannotated") or []}
    flags = []
    for _, ids in groupings:
        ok = not any(i in unannotated for i in ids)
        if annotated is not None:
            ok = ok and all(i in annotated for i in ids)
        flags.append(ok)
    return flags


def _flags_block(flags: np.ndarray, voxel_size: Coordinate, roi: Roi) -> np.ndarray:
    """Each channel's flag over ``roi`` (a fresh, writable array)."""
    shape = tuple(roi.shape / voxel_size)
    return np.repeat(flags, int(np.prod(shape))).reshape((len(flags),) + shape)


def missing_annotations_mask(config, mode: str = "r") -> Array:
    source = config.source_array_config.array("r")
    annotation = _annotation(source.attrs)
    if annotation is None:
        zarr_config = _zarr_source(config.source_array_config)
        if zarr_config is not None:
            from .zarr_array import read_annotation_attrs

            annotation = read_annotation_attrs(zarr_config)
    flags = np.asarray(annotated_groups(config.groupings, annotation), dtype=np.uint8)

    spatial_axes = [n for n in source.axis_names if not n.endswith("^")]
    return computed_from(
        source,
        partial(_flags_block, flags, Coordinate(source.voxel_size)),
        np.uint8,
        channel_shape=(len(flags),),
        axis_names=["c^"] + spatial_axes,
        attrs={"channel_names": config.channel_names, "annotated": [bool(f) for f in flags]},
    )
