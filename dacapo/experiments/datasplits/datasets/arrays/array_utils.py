"""Runtime helpers for building lazy ``funlib.persistence.Array``s (imports dask).

Reading a block through dask costs far more than the read itself: a 140³ read of 32³-chunked
zarr through a normalising view took 55 ms of graph building and scheduling against 4.5 ms for
the zarr read. So derived arrays are ``computed_array``s: a numpy function of a ROI that reads its
sources with ``read`` (straight from the store, no dask graph). funlib wraps each in a dask array
too, for whole-array lazy use; only arrays over dask expressions (TIFF's axis transposes) read
through dask."""

from __future__ import annotations

import operator
import uuid
from functools import partial
from typing import Any, Callable, Optional, Sequence

import dask
import dask.array as da
import numpy as np
from funlib.geometry import Coordinate, Roi
from funlib.persistence import Array

# DaCapo reads block-sized pieces: dask's thread pool only adds overhead there, and its idle
# threads make forked data/daisy workers prone to deadlocks. Compute in the calling thread.
dask.config.set(scheduler="synchronous")


def axis_types(axis_names: Sequence[str]) -> list[str]:
    return ["channel" if name.endswith("^") else "space" for name in axis_names]


def make_array(
    data,
    offset: Sequence[int],
    voxel_size: Sequence[int],
    axis_names: Sequence[str],
    units: Optional[Sequence[str]] = None,
    attrs: Optional[dict[str, Any]] = None,
    chunks: Any = "auto",
) -> Array:
    """A funlib ``Array`` over a dask array or a numpy-like (nothing is computed until
    indexed); ``chunks`` are the dask chunks funlib wraps a numpy-like in."""
    voxel_size = Coordinate(voxel_size)
    if units is None:
        units = ["nm"] * voxel_size.dims
    array = Array(
        data,
        offset=Coordinate(offset),
        voxel_size=voxel_size,
        axis_names=list(axis_names),
        units=list(units),
        types=axis_types(axis_names),
        chunks=chunks,
    )
    if attrs:
        array.attrs.update(attrs)
    return array


_METADATA_KEYS = (
    "voxel_size",
    "offset",
    "axis_names",
    "units",
    "types",
    "resolution",
    "pixelResolution",
    "transform",
    "multiscales",
)


def copy_attrs(array: Array) -> dict[str, Any]:
    """A plain-dict copy of an array's attributes (zarr attributes are read once)."""
    try:
        return dict(array.attrs)
    except Exception:  # attributes are a convenience, never a reason to fail
        return {}


def _inherited_attrs(source: Array, attrs: Optional[dict[str, Any]]) -> dict[str, Any]:
    inherited = copy_attrs(source)
    for key in _METADATA_KEYS:
        inherited.pop(key, None)
    inherited.update(attrs or {})
    return inherited


def read(array: Array, roi: Roi) -> np.ndarray:
    """``array[roi]`` as a fresh numpy array: straight from the array's source (zarr, N5, v3 or a
    ``computed_array``) when no lazy ops are applied, else through dask."""
    if not array.roi.contains(roi):
        raise IndexError(f"Requested roi {roi} is not contained in this array {array.roi}.")
    source = array._source_data
    if array.lazy_ops or isinstance(source, da.Array):
        return np.asarray(array[roi])
    voxels = ((roi - array.offset) / Coordinate(array.voxel_size)).to_slices()
    data = source[(slice(None),) * array.channel_dims + voxels]
    return data.copy() if isinstance(source, np.ndarray) else np.asarray(data)


#: How reads outside an array are filled: ``zero`` (``fill_value``) or ``reflect`` (mirrored at
#: the array's border without repeating the edge voxel, as ``numpy.pad(mode="reflect")``).
PADDING_MODES = ("zero", "reflect")


def check_padding(padding: str) -> str:
    if padding not in PADDING_MODES:
        raise ValueError(f"padding={padding!r}: must be one of {', '.join(PADDING_MODES)}")
    return padding


def read_padded(array: Array, roi: Roi, fill_value=0, padding: str = "zero") -> np.ndarray:
    """``read`` for any ``roi`` on the array's grid, filled where it leaves the array as
    ``padding`` says (funlib's ``to_ndarray`` without the dask graph). Reflected reads equal
    the same window of the whole array padded with ``numpy.pad(mode="reflect")``, however far
    outside they reach, so blocks read this way tile like one padded volume."""
    check_padding(padding)
    inside = roi.intersect(array.roi)
    if inside == roi:
        return read(array, roi)
    if padding == "reflect":
        return _read_reflected(array, roi)
    voxel_size = Coordinate(array.voxel_size)
    channels = tuple(array.shape[: array.channel_dims])
    out = np.full(channels + tuple(roi.shape / voxel_size), fill_value, dtype=array.dtype)
    if not inside.empty:
        place = ((inside - roi.offset) / voxel_size).to_slices()
        out[(slice(None),) * len(channels) + place] = read(array, inside)
    return out


def reflect_indices(begin: int, size: int, length: int) -> np.ndarray:
    """Indices into an axis of ``length`` voxels of positions ``begin .. begin + size - 1``
    (may lie outside), mirrored as ``numpy.pad(mode="reflect")`` (period ``2 (length - 1)``)."""
    positions = np.arange(begin, begin + size)
    if length == 1:
        return np.zeros_like(positions)
    period = 2 * (length - 1)
    positions = np.mod(positions, period)
    return np.where(positions >= length, period - positions, positions)


def _read_reflected(array: Array, roi: Roi) -> np.ndarray:
    voxel_size = Coordinate(array.voxel_size)
    begin = (roi.offset - array.roi.offset) / voxel_size
    indices = [
        reflect_indices(b, s, n)
        for b, s, n in zip(begin, roi.shape / voxel_size, array.roi.shape / voxel_size)
    ]
    low = Coordinate(int(i.min()) for i in indices)
    high = Coordinate(int(i.max()) + 1 for i in indices)
    data = read(array, Roi(array.roi.offset + low * voxel_size, (high - low) * voxel_size))
    local = np.ix_(*(i - lo for i, lo in zip(indices, low)))
    return data[(slice(None),) * array.channel_dims + local]


class _Computed:
    """A read-only numpy-like over ``compute(roi) -> ndarray`` (what ``da.from_array`` and
    funlib's ``Array`` need: ``shape``, ``dtype``, ``ndim``, basic indexing)."""

    def __init__(self, compute, dtype, channel_shape, roi: Roi, voxel_size: Coordinate, chunks):
        self.compute = compute
        self.dtype = np.dtype(dtype)
        self.channel_shape = tuple(channel_shape)
        self.offset = roi.offset
        self.voxel_size = voxel_size
        self.spatial_shape = tuple(roi.shape / voxel_size)
        self.shape = self.channel_shape + self.spatial_shape
        self.ndim = len(self.shape)
        self.chunks = tuple(chunks)
        self._token = uuid.uuid4().hex

    def __dask_tokenize__(self):
        return ("dacapo-computed", self._token)

    def __getitem__(self, key):
        key = _full_key(key, self.ndim)
        c = len(self.channel_shape)
        begins, ends, rest = [], [], []
        for k, n in zip(key[c:], self.spatial_shape):
            b, e, r = _bounds(k, n)
            begins.append(b)
            ends.append(e)
            rest.append(r)
        extent = tuple(e - b for b, e in zip(begins, ends))
        if 0 in extent:
            data = np.empty(self.channel_shape + extent, dtype=self.dtype)
        else:
            roi = Roi(
                self.offset + Coordinate(begins) * self.voxel_size,
                Coordinate(extent) * self.voxel_size,
            )
            data = self.compute(roi)
        return data[tuple(key[:c]) + tuple(rest)]


def _full_key(key, ndim: int) -> tuple:
    key = key if isinstance(key, tuple) else (key,)
    if any(k is Ellipsis for k in key):
        i = next(i for i, k in enumerate(key) if k is Ellipsis)
        key = key[:i] + (slice(None),) * (ndim - len(key) + 1) + key[i + 1 :]
    return key + (slice(None),) * (ndim - len(key))


def _bounds(k, n: int):
    """``(begin, end, key)`` of one axis: the voxel range to compute and the key into it."""
    if isinstance(k, slice):
        start, stop, step = k.indices(n)
        indices = range(start, stop, step)
        if not indices:
            return 0, 0, slice(0, 0)
        low, high = min(indices), max(indices) + 1
        if step > 0:
            return low, high, slice(0, high - low, step)
        return low, high, slice(high - 1 - low, None, step)
    try:
        i = operator.index(k)
    except TypeError:  # an index array: compute the whole axis, index into it
        return 0, n, k
    i = i + n if i < 0 else i
    if not 0 <= i < n:
        raise IndexError(f"index {k} is out of bounds for an axis of size {n}")
    return i, i + 1, 0


def computed_array(
    compute: Callable[[Roi], np.ndarray],
    dtype,
    *,
    roi: Roi,
    voxel_size: Sequence[int],
    axis_names: Sequence[str],
    channel_shape: Sequence[int] = (),
    units: Optional[Sequence[str]] = None,
    chunks: Optional[Sequence[int]] = None,
    attrs: Optional[dict[str, Any]] = None,
) -> Array:
    """An array whose data inside any ROI (on its grid, inside ``roi``) is ``compute(roi)``, of
    shape ``channel_shape + roi.shape / voxel_size``. ``chunks`` (spatial) sets the dask chunks
    for whole-array use; ``compute`` should be picklable (a module-level function or partial)."""
    voxel_size = Coordinate(voxel_size)
    spatial = tuple(roi.shape / voxel_size)
    chunks = tuple(chunks) if chunks is not None else tuple(min(s, 64) for s in spatial)
    data = _Computed(compute, dtype, channel_shape, roi, voxel_size, tuple(channel_shape) + chunks)
    return make_array(data, roi.offset, voxel_size, axis_names, units, attrs, chunks=data.chunks)


def computed_from(
    source: Array,
    compute: Callable[[Roi], np.ndarray],
    dtype,
    *,
    channel_shape: Optional[Sequence[int]] = None,
    axis_names: Optional[Sequence[str]] = None,
    roi: Optional[Roi] = None,
    voxel_size: Optional[Sequence[int]] = None,
    attrs: Optional[dict[str, Any]] = None,
) -> Array:
    """A ``computed_array`` like ``source``: its ROI, voxel size, units, chunks (in nm) and
    channels and axis names unless overridden; ``source``'s attributes are inherited (so CellMap
    annotation attributes survive resampling) except its metadata, and updated with ``attrs``."""
    source_voxel_size = Coordinate(source.voxel_size)
    voxel_size = source_voxel_size if voxel_size is None else Coordinate(voxel_size)
    chunks = Coordinate(source.data.chunksize[source.channel_dims :]) * source_voxel_size
    chunks = [max(1, c // v) for c, v in zip(chunks, voxel_size)]
    if channel_shape is None:
        channel_shape = source.shape[: source.channel_dims]
    if axis_names is None:
        axis_names = source.axis_names
    return computed_array(
        compute,
        dtype,
        roi=source.roi if roi is None else roi,
        voxel_size=voxel_size,
        axis_names=axis_names,
        channel_shape=channel_shape,
        units=source.units,
        chunks=chunks,
        attrs=_inherited_attrs(source, attrs),
    )


def _read_then(source: Array, function: Callable, roi: Roi) -> np.ndarray:
    return function(read(source, roi))


def pointwise(source: Array, function: Callable[[np.ndarray], np.ndarray], dtype, **kwargs) -> Array:
    """``function`` of ``source``'s data voxel by voxel (channels may change: pass
    ``channel_shape``/``axis_names``); see ``computed_from``."""
    return computed_from(source, partial(_read_then, source, function), dtype, **kwargs)
