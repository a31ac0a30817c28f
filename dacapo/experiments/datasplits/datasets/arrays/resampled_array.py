"""Runtime of ``ResampledArrayConfig``: up/downsampling computed per read ROI.

The source is first upsampled by ``up`` (to the "fine" grid: voxels repeated, or linearly
interpolated between voxel centres with edge voxels extended), then downsampled by ``down``
(every d-th fine voxel, or the mean of each d-block) on the coarse grid snapped inside the
source. A read reads only the source voxels its ROI needs."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np
from funlib.geometry import Coordinate, Roi
from funlib.persistence import Array

from ._fields import config_error
from .array_utils import computed_from, read


@dataclass(frozen=True)
class _Plan:
    up: tuple[int, ...]
    down: tuple[int, ...]
    begins: tuple[int, ...]  # first fine voxel of the coarse grid, per axis
    interpolate: bool  # order 1
    source_offset: Coordinate
    source_voxel_size: Coordinate
    source_shape: tuple[int, ...]  # spatial
    offset: Coordinate
    voxel_size: Coordinate
    dtype: np.dtype

    @property
    def work(self):
        return self.dtype if np.issubdtype(self.dtype, np.floating) else np.float32


def _fine_range(plan: _Plan, d: int, o0: int, o1: int) -> tuple[int, int]:
    """Fine-grid voxels ``[j0, j1)`` that output voxels ``[o0, o1)`` of axis ``d`` come from."""
    f, b = plan.down[d], plan.begins[d]
    if f == 1:
        return o0, o1
    if plan.interpolate:
        return b + o0 * f, b + o1 * f
    return b + o0 * f, b + (o1 - 1) * f + 1


def _linear_indices(plan: _Plan, d: int, j: np.ndarray):
    """Source voxels below and above each fine voxel centre, and the weight of the upper one."""
    u, n = plan.up[d], plan.source_shape[d]
    s = (j + 0.5) / u - 0.5
    lower = np.floor(s)
    weight = (s - lower).astype(plan.work)
    i0 = np.clip(lower.astype(np.int64), 0, n - 1)
    i1 = np.clip(lower.astype(np.int64) + 1, 0, n - 1)
    return i0, i1, weight


def _source_range(plan: _Plan, d: int, j0: int, j1: int) -> tuple[int, int]:
    u = plan.up[d]
    if u == 1:
        return j0, j1
    if not plan.interpolate:
        return j0 // u, (j1 - 1) // u + 1
    i0, i1, _ = _linear_indices(plan, d, np.array([j0, j1 - 1]))
    return int(i0[0]), int(i1[1]) + 1


def _restore_dtype(data: np.ndarray, dtype: np.dtype) -> np.ndarray:
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return np.clip(np.round(data), info.min, info.max).astype(dtype)
    if dtype == np.bool_:
        return data >= 0.5
    return data.astype(dtype)


def _resampled(source: Array, plan: _Plan, roi: Roi) -> np.ndarray:
    c = source.channel_dims
    out_begin = (roi.begin - plan.offset) / plan.voxel_size
    out_end = out_begin + roi.shape / plan.voxel_size
    fine = [_fine_range(plan, d, o0, o1) for d, (o0, o1) in enumerate(zip(out_begin, out_end))]
    ranges = [_source_range(plan, d, j0, j1) for d, (j0, j1) in enumerate(fine)]
    read_roi = Roi(
        plan.source_offset + Coordinate(r[0] for r in ranges) * plan.source_voxel_size,
        Coordinate(r[1] - r[0] for r in ranges) * plan.source_voxel_size,
    )
    data = read(source, read_roi)
    if plan.interpolate:
        data = data.astype(plan.work, copy=False)

    for d, ((j0, j1), (s0, _)) in enumerate(zip(fine, ranges)):  # upsample
        if plan.up[d] == 1:
            continue
        axis, j = c + d, np.arange(j0, j1)
        if not plan.interpolate:
            data = np.take(data, j // plan.up[d] - s0, axis=axis)
            continue
        i0, i1, weight = _linear_indices(plan, d, j)
        shape = [1] * data.ndim
        shape[axis] = len(j)
        weight = weight.reshape(shape)
        data = np.take(data, i0 - s0, axis=axis) * (1 - weight) + np.take(data, i1 - s0, axis=axis) * weight

    mean_shape, mean_axes = [], []  # downsample
    for axis, size in enumerate(data.shape):
        f = plan.down[axis - c] if axis >= c else 1
        if f == 1:
            mean_shape.append(size)
        elif not plan.interpolate:
            index = [slice(None)] * data.ndim
            index[axis] = slice(None, None, f)
            data = data[tuple(index)]
            mean_shape.append(data.shape[axis])
        else:
            mean_shape += [size // f, f]
            mean_axes.append(len(mean_shape) - 1)
    if mean_axes:
        data = data.reshape(mean_shape).mean(axis=tuple(mean_axes), dtype=plan.work)
    return _restore_dtype(data, plan.dtype) if plan.interpolate else data


def resampled_array(config, mode: str = "r") -> Array:
    source = config.source_array_config.array("r")
    spatial = source.spatial_dims
    up, down = config.up_factors, config.down_factors
    if len(up) != spatial:
        raise config_error(
            config, "upsample", tuple(config.upsample), f"has {len(up)} axes, the source has {spatial} spatial axes"
        )
    source_voxel_size = Coordinate(source.voxel_size)
    if any(u > 1 and v % u for u, v in zip(up, source_voxel_size)):
        raise config_error(
            config,
            "upsample",
            tuple(config.upsample),
            f"does not divide the source voxel size {tuple(source.voxel_size)}",
        )
    fine_voxel_size = source_voxel_size / up
    fine_shape = Coordinate(source.shape[source.channel_dims :]) * up
    offset = Coordinate(source.offset)
    voxel_size = fine_voxel_size * down
    roi = Roi(offset, fine_shape * fine_voxel_size)
    snapped = roi.snap_to_grid(voxel_size, mode="shrink")
    begins, counts = [], []
    for d, f in enumerate(down):
        if f == 1:
            begins.append(0)
            counts.append(fine_shape[d])
            continue
        shift = snapped.begin[d] - offset[d]
        if shift % fine_voxel_size[d] != 0:  # grids incompatible: anchor at the source offset
            begins.append(0)
            counts.append(fine_shape[d] // f)
        else:
            begins.append(shift // fine_voxel_size[d])
            counts.append(snapped.shape[d] // voxel_size[d])
    if any(n <= 0 for n in counts):
        raise config_error(
            config, "downsample", tuple(config.downsample), f"leaves nothing of the source roi {roi}"
        )
    plan = _Plan(
        up=tuple(up),
        down=tuple(down),
        begins=tuple(begins),
        interpolate=bool(int(config.interp_order)) and (any(u > 1 for u in up) or any(f > 1 for f in down)),
        source_offset=offset,
        source_voxel_size=source_voxel_size,
        source_shape=tuple(source.shape[source.channel_dims :]),
        offset=offset + Coordinate(begins) * fine_voxel_size,
        voxel_size=voxel_size,
        dtype=np.dtype(source.dtype),
    )
    out_roi = Roi(plan.offset, Coordinate(counts) * voxel_size)
    return computed_from(
        source, partial(_resampled, source, plan), source.dtype, roi=out_roi, voxel_size=voxel_size
    )
