"""Runtime of ``ResampledArrayConfig``: lazy up/downsampling with dask."""

from __future__ import annotations

import numpy as np
import dask.array as da
from funlib.geometry import Coordinate, Roi
from funlib.persistence import Array

from ._fields import config_error
from .array_utils import derived


def _restore_dtype(data: da.Array, dtype: np.dtype) -> da.Array:
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return data.round().clip(info.min, info.max).astype(dtype)
    if dtype == np.bool_:
        return data >= 0.5
    return data.astype(dtype)


def _work_dtype(dtype: np.dtype):
    return dtype if np.issubdtype(dtype, np.floating) else np.float32


def _linear_upsample(data: da.Array, axis: int, factor: int, dtype) -> da.Array:
    """Linear interpolation between voxel centres (edge voxels are extended)."""
    n = data.shape[axis]
    j = np.arange(n * factor)
    s = (j + 0.5) / factor - 0.5
    lower = np.floor(s)
    weight = (s - lower).astype(dtype)
    i0 = np.clip(lower.astype(np.int64), 0, n - 1)
    i1 = np.clip(lower.astype(np.int64) + 1, 0, n - 1)
    shape = [1] * data.ndim
    shape[axis] = n * factor
    weight = weight.reshape(shape)
    a = da.take(data, i0, axis=axis)
    b = da.take(data, i1, axis=axis)
    return a * (1 - weight) + b * weight


def _block_mean(block: np.ndarray, axes: dict[int, int], dtype) -> np.ndarray:
    shape = []
    mean_axes = []
    for axis, size in enumerate(block.shape):
        factor = axes.get(axis, 1)
        if factor > 1:
            shape += [size // factor, factor]
            mean_axes.append(len(shape) - 1)
        else:
            shape.append(size)
    return block.reshape(shape).mean(axis=tuple(mean_axes), dtype=dtype).astype(dtype)


def resampled_array(config, mode: str = "r") -> Array:
    source = config.source_array_config.array("r")
    spatial = source.spatial_dims
    up, down = config.up_factors, config.down_factors
    if len(up) != spatial:
        raise config_error(
            config, "upsample", tuple(config.upsample), f"has {len(up)} axes, the source has {spatial} spatial axes"
        )
    order = int(config.interp_order)
    c = source.channel_dims
    data = source.data
    voxel_size = Coordinate(source.voxel_size)
    offset = Coordinate(source.offset)
    dtype = source.dtype
    work = _work_dtype(dtype)
    interpolated = False

    # --- upsample ---------------------------------------------------------------------------
    for d, u in enumerate(up):
        if u == 1:
            continue
        if voxel_size[d] % u != 0:
            raise config_error(
                config,
                "upsample",
                tuple(config.upsample),
                f"does not divide the source voxel size {tuple(source.voxel_size)}",
            )
        if order == 0:
            data = da.repeat(data, u, axis=c + d)
        else:
            if not interpolated:
                data = data.astype(work)
                interpolated = True
            data = _linear_upsample(data, c + d, u, work)
    voxel_size = voxel_size / up

    # --- downsample -------------------------------------------------------------------------
    if any(f > 1 for f in down):
        new_voxel_size = voxel_size * down
        shape = Coordinate(data.shape[c:])
        roi = Roi(offset, shape * voxel_size)
        snapped = roi.snap_to_grid(new_voxel_size, mode="shrink")
        begins, counts = [], []
        for d, f in enumerate(down):
            if f == 1:
                begins.append(0)
                counts.append(shape[d])
                continue
            shift = snapped.begin[d] - offset[d]
            if shift % voxel_size[d] != 0:  # grids incompatible: anchor at the source offset
                begin = 0
                count = shape[d] // f
            else:
                begin = shift // voxel_size[d]
                count = snapped.shape[d] // new_voxel_size[d]
            begins.append(begin)
            counts.append(count)
        if any(n <= 0 for n in counts):
            raise config_error(
                config,
                "downsample",
                tuple(config.downsample),
                f"leaves nothing of the source roi {roi}",
            )
        offset = offset + Coordinate(begins) * voxel_size
        if order == 0:
            slices = tuple(
                slice(b, b + n * f, f) for b, n, f in zip(begins, counts, down)
            )
            data = data[(slice(None),) * c + slices]
        else:
            slices = tuple(slice(b, b + n * f) for b, n, f in zip(begins, counts, down))
            data = data[(slice(None),) * c + slices]
            if not interpolated:
                data = data.astype(work)
                interpolated = True
            axes = {c + d: f for d, f in enumerate(down) if f > 1}
            chunks = {}
            for axis, f in axes.items():
                size = max(data.chunksize[axis], f)
                chunks[axis] = max(f, (size // f) * f)
            data = data.rechunk(chunks)
            out_chunks = tuple(
                tuple(ch // axes.get(axis, 1) for ch in data.chunks[axis]) for axis in range(data.ndim)
            )
            data = data.map_blocks(_block_mean, axes, work, dtype=work, chunks=out_chunks)
        voxel_size = new_voxel_size

    if interpolated:
        data = _restore_dtype(data, dtype)
    return derived(source, data, offset=offset, voxel_size=voxel_size)
