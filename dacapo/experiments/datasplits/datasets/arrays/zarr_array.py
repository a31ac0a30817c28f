"""Runtime of ``ZarrArrayConfig``: open a zarr v2 / v3 / N5 dataset as a lazy funlib ``Array``."""

from __future__ import annotations

import logging
import math
import re
import warnings
from functools import partial
from pathlib import Path
from typing import Any, Optional

import zarr
from funlib.geometry import Coordinate, Roi
from funlib.persistence import Array

from dacapo.utils.paths import container_path, is_remote

from ._fields import config_error
from ._zarr_v3 import V3Nodes, is_v3
from .array_utils import axis_types, computed_from, read

logger = logging.getLogger(__name__)

_SPATIAL_NAMES = ("z", "y", "x")


# --- containers ---------------------------------------------------------------------------------
def is_n5(path: Path) -> bool:
    """An N5 container: ``.n5`` suffix, or a root ``attributes.json`` without zarr metadata."""
    if path.suffix.lower() == ".n5":
        return True
    return (path / "attributes.json").exists() and not (
        (path / ".zgroup").exists() or (path / ".zarray").exists()
    )


def open_store(path: Path, n5: Optional[bool] = None):
    """A zarr store for a container: ``zarr.N5Store`` for local N5, else a DirectoryStore;
    a remote container reads through fsspec (``remote_store``)."""
    n5 = is_n5(path) if n5 is None else n5
    if is_remote(path):
        from ._remote import remote_store

        return remote_store(path, n5)
    if n5:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            return zarr.N5Store(str(path))
    return zarr.DirectoryStore(str(path))


def normalize_dataset(dataset: str) -> str:
    """``'volumes//labels/all/'`` -> ``'volumes/labels/all'``."""
    return "/".join(part for part in str(dataset).split("/") if part)


class ZarrNodes:
    """The groups and arrays of a zarr v2 / N5 store (``V3Nodes`` is the zarr v3 counterpart)."""

    def __init__(self, store):
        self.store = store

    def is_array(self, path: str) -> bool:
        return zarr.storage.contains_array(self.store, path)

    def is_group(self, path: str) -> bool:
        return not path or zarr.storage.contains_group(self.store, path)

    def attrs(self, path: str) -> dict:
        try:
            if self.is_array(path):
                return dict(zarr.open_array(self.store, path=path, mode="r").attrs)
            if self.is_group(path):
                return dict(zarr.open_group(self.store, path=path, mode="r").attrs)
        except Exception:
            pass
        return {}

    def children(self, path: str) -> list[str]:
        try:
            group = zarr.open_group(self.store, path=path, mode="r")
            return sorted(group.array_keys()) + sorted(k + "/" for k in group.group_keys())
        except Exception:
            return []


def as_nodes(store):
    return store if isinstance(store, (ZarrNodes, V3Nodes)) else ZarrNodes(store)


def _missing_dataset_message(nodes, dataset: str) -> str:
    parts = dataset.split("/")
    # the deepest existing group, to tell the user what is there
    for depth in range(len(parts) - 1, -1, -1):
        parent = "/".join(parts[:depth])
        if depth == 0 or nodes.is_group(parent):
            children = nodes.children(parent)
            listing = ", ".join(children[:12]) + (", ..." if len(children) > 12 else "")
            where = f"'{parent}'" if parent else "the container root"
            return f"not found (in {where}: {listing or 'nothing'})"
    return "not found"


# --- metadata -----------------------------------------------------------------------------------
def _ints(values: Any) -> Optional[list[int]]:
    if values is None:
        return None
    out = []
    for v in values:
        f = float(v)
        if not f.is_integer():
            rounded = int(round(f))
            logger.warning("non-integer world coordinate %s rounded to %s", f, rounded)
            out.append(rounded)
        else:
            out.append(int(f))
    return out


def _group_attrs(nodes, path: str) -> dict:
    return nodes.attrs(path) if nodes.is_group(path) else {}


def _ome_metadata(nodes, dataset: str) -> Optional[dict]:
    """Voxel size, offset, axes and units from the parent group's OME-NGFF ``multiscales``."""
    if "/" in dataset:
        parent, name = dataset.rsplit("/", 1)
    else:
        parent, name = "", dataset
    attrs = _group_attrs(nodes, parent)
    for multiscale in attrs.get("multiscales", []) or []:
        for entry in multiscale.get("datasets", []):
            if normalize_dataset(entry.get("path", "")) != name:
                continue
            axes = multiscale.get("axes")
            scale = translation = None
            transforms = list(multiscale.get("coordinateTransformations", []) or [])
            for transform in list(entry.get("coordinateTransformations", [])) + transforms:
                if transform.get("type") == "scale" and scale is None:
                    scale = transform.get("scale")
                elif transform.get("type") == "translation" and translation is None:
                    translation = transform.get("translation")
            names = units = None
            spatial = None
            if axes:
                names = [a["name"] if isinstance(a, dict) else str(a) for a in axes]
                types = [a.get("type", "space") if isinstance(a, dict) else "space" for a in axes]
                spatial = [t in ("space", "time") for t in types]
                names = [n if s else n.rstrip("^") + "^" for n, s in zip(names, spatial)]
                units = [a.get("unit") or "nm" for a, s in zip(axes, spatial) if s and isinstance(a, dict)]

            def keep(values):
                if values is None or spatial is None or len(values) != len(spatial):
                    return values
                return [v for v, s in zip(values, spatial) if s]

            return {
                "voxel_size": _ints(keep(scale)),
                "offset": _ints(keep(translation)),
                "axis_names": names,
                "units": units or None,
            }
    return None


def read_metadata(store, dataset: str, attrs: dict, n5: bool) -> dict:
    """``voxel_size``, ``offset``, ``axis_names``, ``units`` (each possibly None) from the
    dataset's attributes, in the order documented on ``ZarrArrayConfig``."""
    if "voxel_size" in attrs:
        return {
            "voxel_size": _ints(attrs.get("voxel_size")),
            "offset": _ints(attrs.get("offset")),
            "axis_names": attrs.get("axis_names"),
            "units": attrs.get("units"),
        }
    transform = attrs.get("transform")
    if isinstance(transform, dict) and "scale" in transform:
        axes = transform.get("axes")
        return {
            "voxel_size": _ints(transform.get("scale")),
            "offset": _ints(transform.get("translate")),
            "axis_names": list(axes) if axes else None,
            "units": transform.get("units"),
        }
    ome = _ome_metadata(as_nodes(store), dataset)
    if ome is not None:
        return ome

    def ordered(values):
        values = _ints(values)
        return values[::-1] if (values is not None and n5) else values

    if "resolution" in attrs:
        return {
            "voxel_size": ordered(attrs.get("resolution")),
            "offset": ordered(attrs.get("offset")),
            "axis_names": None,
            "units": None,
        }
    pixel = attrs.get("pixelResolution")
    if isinstance(pixel, dict) and "dimensions" in pixel:
        unit = pixel.get("unit")
        voxel_size = ordered(pixel["dimensions"])
        return {
            "voxel_size": voxel_size,
            "offset": ordered(attrs.get("offset")),
            "axis_names": None,
            "units": [unit] * len(voxel_size) if unit else None,
        }
    return {"voxel_size": None, "offset": _ints(attrs.get("offset")), "axis_names": None, "units": None}


def _dimension_names_as_axes(names) -> Optional[list[str]]:
    """zarr v3 ``dimension_names`` as axis names (``c``/``channel`` are channel axes); None
    where a dimension is unnamed."""
    if any(not isinstance(n, str) or not n for n in names):
        return None
    return ["c^" if n.lower() in ("c", "channel", "channels") else n for n in names]


def _canonical_axis_names(names: list[str]) -> list[str]:
    """A bare ``c`` (the original DaCapo's channel axis) becomes ``c^``."""
    return ["c^" if name == "c" else name for name in names]


def _default_axis_names(ndim: int, num_spatial: int) -> list[str]:
    num_channels = ndim - num_spatial
    channels = ["c^"] if num_channels == 1 else [f"c{i}^" for i in range(num_channels)]
    spatial = (
        list(_SPATIAL_NAMES[-num_spatial:])
        if num_spatial <= 3
        else [f"d{i}" for i in range(num_spatial)]
    )
    return channels + spatial


def find_annotation_attrs(store, dataset: str) -> Optional[dict]:
    """The ``cellmap.annotation`` attributes of the dataset or of its closest parent group."""
    nodes = as_nodes(store)
    parts = dataset.split("/")
    for depth in range(len(parts), -1, -1):
        attrs = nodes.attrs("/".join(parts[:depth]))
        annotation = (attrs.get("cellmap") or {}).get("annotation")
        if isinstance(annotation, dict) and (
            "class_ids_annotated" in annotation or "class_ids_unannotated" in annotation
        ):
            return annotation
    return None


def multiscale_levels(
    store, dataset: str, n5: bool = False, numbered: bool = True
) -> list[tuple[str, Optional[list[int]]]]:
    """The scale levels of a multiscale group as ``(array path, voxel size)`` pairs, finest
    first: the OME-NGFF ``multiscales`` datasets in their order, else (``numbered``) the
    arrays named ``s0``, ``s1``, ... (voxel sizes from their own metadata; None where there
    is none)."""
    nodes = as_nodes(store)
    dataset = normalize_dataset(dataset)
    levels: list[tuple[str, Optional[list[int]]]] = []
    for multiscale in _group_attrs(nodes, dataset).get("multiscales", []) or []:
        for entry in multiscale.get("datasets", []):
            candidate = normalize_dataset(f"{dataset}/{entry.get('path', '')}")
            if nodes.is_array(candidate) and candidate not in [p for p, _ in levels]:
                attrs = nodes.attrs(candidate)
                levels.append((candidate, read_metadata(nodes, candidate, attrs, n5)["voxel_size"]))
        if levels:
            return levels
    if not numbered:
        return levels
    names = [k for k in nodes.children(dataset) if re.fullmatch(r"s\d+", k)]
    for name in sorted(names, key=lambda k: int(k[1:])):
        candidate = normalize_dataset(f"{dataset}/{name}")
        levels.append((candidate, read_metadata(nodes, candidate, nodes.attrs(candidate), n5)["voxel_size"]))
    return levels


# --- the array ----------------------------------------------------------------------------------
def open_zarr_array(config, mode: str = "r") -> Array:
    path = container_path(config.file_name)
    if mode not in ("r", "r+", "a", "w"):
        raise config_error(config, "mode", mode, "must be one of 'r', 'r+', 'a', 'w'")
    if mode != "r" and config.mode == "r":
        raise config_error(config, "mode", config.mode, f"is read-only, cannot open with mode={mode!r}")
    if mode != "r" and is_remote(path):
        raise config_error(config, "file_name", path, f"is remote, which DaCapo reads only (mode={mode!r})")
    if is_remote(path):
        from ._remote import remote_path

        path = remote_path(path)
    try:
        exists = path.exists()
    except Exception as exc:  # no network, refused credentials, an unknown protocol ...
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise config_error(config, "file_name", path, f"cannot be reached: {reason}") from None
    if not exists:
        raise config_error(config, "file_name", path, "does not exist")
    dataset = normalize_dataset(config.dataset)
    if not dataset:
        raise config_error(config, "dataset", repr(config.dataset), "is empty")
    v3 = is_v3(path, dataset)
    if v3 and is_remote(path):
        raise config_error(config, "file_name", path, "is a remote zarr v3 container; DaCapo reads zarr v3 from local disk only")
    n5 = not v3 and is_n5(path)
    nodes = V3Nodes(path) if v3 else ZarrNodes(open_store(path, n5))
    if v3 and mode != "r":
        raise config_error(
            config, "file_name", path, f"is a zarr v3 container, which DaCapo reads only (mode={mode!r})"
        )

    if not nodes.is_array(dataset):
        resolved = None
        if nodes.is_group(dataset):
            # an OME-NGFF multiscale group: the level whose voxel size is config.voxel_size,
            # else the first (highest resolution) level
            levels = multiscale_levels(nodes, dataset, n5, numbered=False)
            if levels and config.voxel_size is not None:
                wanted = Coordinate(config.voxel_size)
                matches = [p for p, v in levels if v is not None and Coordinate(v) == wanted]
                if not matches:
                    listing = ", ".join(
                        f"{p.rsplit('/', 1)[-1]} {tuple(v) if v is not None else '?'}" for p, v in levels
                    )
                    raise config_error(
                        config,
                        "voxel_size",
                        tuple(wanted),
                        f"matches no level of the multiscale group {dataset!r} in {path} "
                        f"(levels: {listing})",
                    )
                resolved = matches[0]
            elif levels:
                resolved = levels[0][0]
            if resolved is None:
                raise config_error(
                    config,
                    "dataset",
                    repr(config.dataset),
                    f"is a group, not an array, in {path} (it holds: "
                    f"{', '.join(nodes.children(dataset)[:12]) or 'nothing'})",
                )
        else:
            raise config_error(
                config, "dataset", repr(config.dataset), f"{_missing_dataset_message(nodes, dataset)} in {path}"
            )
        dataset = resolved

    try:
        if v3:
            source = nodes.open_array(dataset)
        else:
            source = zarr.open_array(nodes.store, path=dataset, mode="r" if mode == "r" else "r+")
    except Exception as exc:  # corrupt metadata, an unsupported codec, permissions ...
        reason = " ".join(str(exc).split())
        raise config_error(
            config, "dataset", repr(config.dataset), f"cannot be opened in {path}: {reason}"
        ) from None

    attrs = copy_attrs_of(source)
    meta = read_metadata(nodes, dataset, attrs, n5)
    if v3 and meta["axis_names"] is None and source.dimension_names:
        meta["axis_names"] = _dimension_names_as_axes(source.dimension_names)
    ndim = len(source.shape)

    # axis names: the config's, else the metadata's, else defaults
    axis_names = config.axes if config.axes is not None else meta["axis_names"]
    voxel_size = config.voxel_size if config.voxel_size is not None else meta["voxel_size"]
    offset = config.offset if config.offset is not None else meta["offset"]
    if axis_names is not None:
        axis_names = _canonical_axis_names(list(axis_names))
        if len(axis_names) != ndim and config.axes is None:
            logger.warning(
                "%s: ignoring axis names %s that do not match the data's shape %s",
                config.name,
                axis_names,
                source.shape,
            )
            axis_names = None
        elif len(axis_names) != ndim:
            raise config_error(
                config, "axes", axis_names, f"does not match the {ndim} dimensions of the data {source.shape}"
            )
    if axis_names is not None:
        num_spatial = sum(1 for n in axis_names if not n.endswith("^"))
    elif voxel_size is not None:
        num_spatial = len(voxel_size)
    elif offset is not None:
        num_spatial = len(offset)
    else:
        num_spatial = ndim if ndim <= 3 else 3
    if not 0 < num_spatial <= ndim:
        raise config_error(
            config, "voxel_size", voxel_size, f"does not match the data's shape {source.shape}"
        )
    if axis_names is None:
        axis_names = _default_axis_names(ndim, num_spatial)
    voxel_size = Coordinate(voxel_size) if voxel_size is not None else Coordinate((1,) * num_spatial)
    offset = Coordinate(offset) if offset is not None else Coordinate((0,) * num_spatial)
    for what, value in (("voxel_size", voxel_size), ("offset", offset)):
        if len(value) != num_spatial:
            raise config_error(
                config, what, tuple(value), f"has {len(value)} axes, the data has {num_spatial} spatial axes"
            )
    if any(v <= 0 for v in voxel_size):
        raise config_error(config, "voxel_size", tuple(voxel_size), "must be positive")
    units = meta["units"]
    if units is None or len(units) != num_spatial:
        units = ["nm"] * num_spatial
    units = [u or "nm" for u in units]

    def whole() -> Array:
        array = Array(
            source,
            offset=offset,
            voxel_size=voxel_size,
            axis_names=axis_names,
            units=units,
            types=axis_types(axis_names),
            chunks=source.dask_chunks if v3 else source.chunks,
        )
        if v3:  # funlib exposes the attributes of zarr-python arrays only
            array.attrs.update(attrs)
        return array

    if config.snap_to_grid is None:
        return whole()

    # snap the ROI inward to the grid (and to the voxel grid of this array)
    grid = config.snap_to_grid
    if len(grid) != num_spatial:
        raise config_error(
            config, "snap_to_grid", tuple(grid), f"has {len(grid)} axes, the data has {num_spatial} spatial axes"
        )
    shape = Coordinate(source.shape[ndim - num_spatial :])
    roi = Roi(offset, shape * voxel_size)
    snapped = roi.snap_to_grid(grid, mode="shrink")
    begin = [math.ceil((b - o) / v) for b, o, v in zip(snapped.begin, offset, voxel_size)]
    end = [math.floor((e - o) / v) for e, o, v in zip(snapped.end, offset, voxel_size)]
    if snapped.empty or any(e <= b for b, e in zip(begin, end)):
        raise config_error(
            config, "snap_to_grid", tuple(grid), f"leaves nothing of the array's roi {roi}"
        )
    if begin == [0] * num_spatial and list(end) == list(shape):
        return whole()
    array = whole()
    inside = Roi(offset + Coordinate(begin) * voxel_size, (Coordinate(end) - Coordinate(begin)) * voxel_size)
    return computed_from(array, partial(read, array), array.dtype, roi=inside, attrs=attrs)


def copy_attrs_of(source) -> dict:
    try:
        return dict(source.attrs)
    except Exception:
        return {}


def read_annotation_attrs(config) -> Optional[dict]:
    """``cellmap.annotation`` attributes for a ``ZarrArrayConfig``'s dataset (or a parent)."""
    path = container_path(config.file_name)
    if is_remote(path):
        from ._remote import remote_path

        path = remote_path(path)
    if not path.exists():
        return None
    dataset = normalize_dataset(config.dataset)
    nodes = V3Nodes(path) if is_v3(path, dataset) else ZarrNodes(open_store(path))
    return find_annotation_attrs(nodes, dataset)


__all__ = ["open_zarr_array", "multiscale_levels", "read_metadata", "read_annotation_attrs", "find_annotation_attrs"]
