"""Runtime of ``TiffArrayConfig``: a TIFF file or a sequence of TIFF files as a lazy funlib
``Array``, read through tifffile's zarr interface (only the pages/tiles a ROI touches)."""

from __future__ import annotations

import glob
import itertools
import os
import re
from pathlib import Path
from typing import Any, Optional

import dask.array as da
import numpy as np
from funlib.geometry import Coordinate

from ._fields import config_error
from .array_utils import make_array

_SUFFIXES = (".tif", ".tiff")
_SPATIAL_NAMES = ("z", "y", "x")


def _natural_key(path: str) -> list:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path)]


def tiff_files(config) -> list[str]:
    """The TIFF file(s) a ``TiffArrayConfig`` names, in stacking order."""
    path = Path(config.file_name).expanduser()
    text = str(path)
    if any(ch in text for ch in "*?["):
        files = [f for f in glob.glob(text) if os.path.isfile(f)]
        if not files:
            raise config_error(config, "file_name", path, "matches no files")
    elif path.is_dir():
        files = [str(f) for f in path.iterdir() if f.suffix.lower() in _SUFFIXES and f.is_file()]
        if not files:
            raise config_error(config, "file_name", path, "is a directory without .tif/.tiff files")
    elif path.is_file():
        files = [text]
    else:
        raise config_error(config, "file_name", path, "does not exist")
    return sorted(files, key=_natural_key)


def _open_zarr(tif) -> Any:
    """The first series (full resolution) through tifffile's zarr 2 interface (tifffile <
    2025.5.21; newer versions need zarr 3 and raise here)."""
    import zarr

    store = tif.series[0].aszarr(level=0)
    array = zarr.open(store, mode="r")
    if isinstance(array, zarr.hierarchy.Group):  # pragma: no cover - tifffile versions differ
        array = array[sorted(array.array_keys())[0]]
    return array


class _Pages:
    """The first series read page by page (``TiffFile.asarray(key=...)``), without zarr: a
    fallback where tifffile's zarr interface is unavailable. Chunks are whole pages."""

    def __init__(self, tif):
        series = tif.series[0]
        self.tif = tif
        self.shape = tuple(series.shape)
        self.dtype = np.dtype(series.dtype)
        page_shape = tuple(series.keyframe.shape)
        lead = len(self.shape) - len(page_shape)
        if lead > 0 and self.shape[lead:] == page_shape and int(np.prod(self.shape[:lead])) == len(series):
            self.lead = lead
            self.chunks = (1,) * lead + page_shape
        else:  # a single page, or pages that do not tile the series simply: one chunk
            self.lead = None
            self.chunks = self.shape

    def __getitem__(self, key) -> np.ndarray:
        if self.lead is None:
            return self.tif.series[0].asarray()[key]
        lead_key, rest = key[: self.lead], key[self.lead :]
        grids = [
            list(range(n)[k]) if isinstance(k, slice) else [int(k)]
            for k, n in zip(lead_key, self.shape)
        ]
        flat = [
            int(np.ravel_multi_index(index, self.shape[: self.lead]))
            for index in itertools.product(*grids)
        ]
        if not flat:
            probe = np.empty(self.chunks[self.lead :], dtype=self.dtype)[rest]
            out_shape = [len(g) for g, k in zip(grids, lead_key) if isinstance(k, slice)]
            return np.empty(out_shape + list(probe.shape), dtype=self.dtype)
        planes = [self.tif.asarray(series=0, key=i)[rest] for i in flat]
        out = np.stack(planes).reshape([len(g) for g in grids] + list(planes[0].shape))
        squeeze = tuple(i for i, k in enumerate(lead_key) if not isinstance(k, slice))
        return out.squeeze(axis=squeeze) if squeeze else out


def _open_file(tif) -> Any:
    """An array-like over the first series of an open ``TiffFile``: tifffile's zarr interface
    where it works (tile-level laziness), else page by page."""
    try:
        return _open_zarr(tif)
    except Exception:
        return _Pages(tif)


class TiffReader:
    """A picklable array-like over a TIFF file (opened once per process: forked data workers
    must not share a file offset) or a sequence of TIFF files (each opened when read)."""

    def __init__(self, files: list[str]):
        import tifffile

        self.files = list(files)
        self._opened: Optional[tuple[int, Any, Any]] = None
        with tifffile.TiffFile(self.files[0]) as tif:
            series = tif.series[0]
            array = _open_file(tif)
            self.page_shape = tuple(array.shape)
            self.dtype = np.dtype(array.dtype)
            page_chunks = tuple(array.chunks)
            self.series_axes = str(series.axes)
        if len(self.files) == 1:
            self.shape = self.page_shape
            self.chunks = page_chunks
            self.axes = self.series_axes
        else:
            self.shape = (len(self.files),) + self.page_shape
            self.chunks = (1,) + page_chunks
            self.axes = "I" + self.series_axes
        self.ndim = len(self.shape)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_opened"] = None
        return state

    def _single(self):
        pid = os.getpid()
        if self._opened is None or self._opened[0] != pid:
            import tifffile

            tif = tifffile.TiffFile(self.files[0])
            self._opened = (pid, tif, _open_file(tif))
        return self._opened[2]

    def __getitem__(self, key) -> np.ndarray:
        if not isinstance(key, tuple):
            key = (key,)
        key = key + (slice(None),) * (self.ndim - len(key))
        if len(self.files) == 1:
            return np.asarray(self._single()[key])
        import tifffile

        first, rest = key[0], key[1:]
        if isinstance(first, (int, np.integer)):
            indices, squeeze = [int(first)], True
        else:
            indices, squeeze = list(range(len(self.files))[first]), False
        planes = []
        for index in indices:
            with tifffile.TiffFile(self.files[index]) as tif:
                array = _open_file(tif)
                if tuple(array.shape) != self.page_shape or array.dtype != self.dtype:
                    raise ValueError(
                        f"TIFF file {self.files[index]} has shape {array.shape} {array.dtype}, "
                        f"the first file {self.files[0]} {self.page_shape} {self.dtype}"
                    )
                planes.append(np.asarray(array[rest]))
        if squeeze:
            return planes[0]
        if not planes:
            probe = np.empty(self.page_shape, dtype=self.dtype)[rest]
            return np.empty((0,) + probe.shape, dtype=self.dtype)
        return np.stack(planes)


def _default_axis_names(axes: str) -> list[str]:
    channel = [a in "SC" for a in axes]
    num_channels = sum(channel)
    num_spatial = len(axes) - num_channels
    spatial = (
        list(_SPATIAL_NAMES[-num_spatial:])
        if num_spatial <= 3
        else [f"d{i}" for i in range(num_spatial)]
    )
    channels = ["c^"] if num_channels == 1 else [f"c{i}^" for i in range(num_channels)]
    names = []
    for is_channel in channel:
        names.append(channels.pop(0) if is_channel else spatial.pop(0))
    return names


def open_tiff_array(config, mode: str = "r"):
    if mode != "r":
        raise config_error(config, "mode", mode, "is not supported: TIFF arrays are read-only")
    files = tiff_files(config)
    try:
        reader = TiffReader(files)
    except Exception as exc:  # not a TIFF, truncated ...
        raise config_error(
            config, "file_name", files[0], f"cannot be read as TIFF: {type(exc).__name__}: {exc}"
        ) from None
    if config.axis_names is not None:
        names = ["c^" if n == "c" else n for n in config.axis_names]
        if len(names) != reader.ndim:
            raise config_error(
                config,
                "axis_names",
                config.axis_names,
                f"does not match the {reader.ndim} axes of the data {reader.shape}",
            )
    else:
        names = _default_axis_names(reader.axes)
    channel_axes = [i for i, n in enumerate(names) if n.endswith("^")]
    spatial_axes = [i for i, n in enumerate(names) if not n.endswith("^")]
    if not spatial_axes:
        raise config_error(config, "axis_names", names, "has no spatial axes")
    num_spatial = len(spatial_axes)
    for field in ("voxel_size", "offset"):
        value = getattr(config, field)
        if value is not None and len(value) != num_spatial:
            raise config_error(
                config,
                field,
                tuple(value),
                f"has {len(value)} axes, the data {reader.shape} (axes {names}) has "
                f"{num_spatial} spatial axes",
            )
    voxel_size = config.voxel_size if config.voxel_size is not None else Coordinate((1,) * num_spatial)
    offset = config.offset if config.offset is not None else Coordinate((0,) * num_spatial)
    data = da.from_array(reader, chunks=reader.chunks, asarray=False, fancy=False, lock=False)
    order = channel_axes + spatial_axes
    if order != list(range(reader.ndim)):
        data = data.transpose(order)
        names = [names[i] for i in order]
    return make_array(
        data,
        offset,
        voxel_size,
        names,
        units=config.units,
        attrs={"tiff_files": len(files), "tiff_axes": reader.axes},
    )
