"""Output arrays of blockwise jobs: creation (or reuse, when resuming), block writes cropped to
the output ROI, and the storage of float predictions in integer dtypes.

Integer storage of predictions (``encode``/``decode``), CF-style: the array's attributes
``scale_factor`` and ``add_offset`` give ``value = stored * scale_factor + add_offset``, and
``value_range`` the prediction range that was mapped:

- uint8 (unsigned) and a symmetric range ``[-a, a]`` (tanh outputs, e.g. distances):
  ``stored = round(127 * x / a) + 127``: ``-a → 0``, ``0 → 127`` (exactly), ``a → 254``;
  255 is unused so that 0 stays exact. (The original DaCapo multiplied by 255 and clipped,
  losing every negative value.)
- uint8 and ``[0, 1]`` (sigmoid/softmax outputs): ``stored = round(255 * x)``.
- int8: ``stored = round(127 * x / max(|lo|, |hi|))``.
- wider integer types: the same with their own maximum.
Values outside the range are clipped. Float dtypes store the values as they are.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
from funlib.geometry import Coordinate, Roi

logger = logging.getLogger(__name__)


# --- value encoding -------------------------------------------------------------------------------
def encoding(dtype, value_range: Optional[Sequence[float]]) -> Optional[dict]:
    """``{"scale_factor", "add_offset", "value_range"}`` to store predictions in ``value_range``
    as ``dtype``; ``None`` for float dtypes (stored as they are)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return None
    if dtype.kind not in "ui":
        raise ValueError(f"cannot store predictions as {dtype}")
    lo, hi = (-1.0, 1.0) if value_range is None else (float(value_range[0]), float(value_range[1]))
    if not hi > lo:
        raise ValueError(f"value range must be increasing, got {value_range}")
    info = np.iinfo(dtype)
    if dtype.kind == "u":
        if lo < 0 < hi and abs(lo + hi) < 1e-12:  # symmetric: keep 0 exact
            steps = info.max - (info.max % 2)
            scale = (hi - lo) / steps
            offset = lo
        else:
            scale = (hi - lo) / info.max
            offset = lo
    else:
        bound = max(abs(lo), abs(hi))
        scale = bound / info.max
        offset = 0.0
    return {"scale_factor": float(scale), "add_offset": float(offset), "value_range": [lo, hi]}


def encode(data: np.ndarray, dtype, enc: Optional[dict]) -> np.ndarray:
    dtype = np.dtype(dtype)
    if enc is None:
        return data.astype(dtype, copy=False)
    lo, hi = enc["value_range"]
    clipped = np.clip(data, lo, hi)
    stored = np.round((clipped - enc["add_offset"]) / enc["scale_factor"])
    info = np.iinfo(dtype)
    return np.clip(stored, info.min, info.max).astype(dtype)


def decode(data: np.ndarray, attributes) -> np.ndarray:
    """Stored values → predictions (float32), using ``scale_factor``/``add_offset`` if present."""
    scale = attributes.get("scale_factor") if attributes is not None else None
    if scale is None:
        return np.asarray(data, dtype=np.float32) if np.asarray(data).dtype.kind != "f" else data
    offset = attributes.get("add_offset", 0.0)
    return (np.asarray(data, dtype=np.float32) * np.float32(scale) + np.float32(offset)).astype(
        np.float32
    )


def value_range(task) -> tuple[float, float]:
    """The range of a task's predictions, as its predictor declares it (``output_range``)."""
    low, high = task.predictor.output_range
    return float(low), float(high)


# --- arrays ---------------------------------------------------------------------------------------
def array_path(identifier) -> Path:
    return Path(identifier.container) / identifier.dataset


def array_exists(identifier) -> bool:
    return (array_path(identifier) / ".zarray").is_file()


def _compatible(array, roi: Roi, voxel_size, shape, dtype, chunks) -> Optional[str]:
    problems = []
    if Coordinate(array.voxel_size) != Coordinate(voxel_size):
        problems.append(f"voxel size {array.voxel_size} != {voxel_size}")
    if array.roi != roi:
        problems.append(f"ROI {array.roi} != {roi}")
    if tuple(array.shape) != tuple(shape):
        problems.append(f"shape {tuple(array.shape)} != {tuple(shape)}")
    if np.dtype(array.dtype) != np.dtype(dtype):
        problems.append(f"dtype {array.dtype} != {np.dtype(dtype)}")
    source_chunks = getattr(array._source_data, "chunks", None)
    if chunks is not None and source_chunks is not None and tuple(source_chunks) != tuple(chunks):
        problems.append(f"chunks {tuple(source_chunks)} != {tuple(chunks)}")
    return "; ".join(problems) or None


def prepare_output(
    identifier,
    roi: Roi,
    voxel_size: Coordinate,
    num_channels: Optional[int],
    dtype,
    block_shape: Coordinate,
    *,
    resume: bool,
    overwrite: bool,
    channel_names: Optional[Sequence[str]] = None,
    attributes: Optional[dict] = None,
    job: Optional[dict] = None,
):
    """Create the output array (chunks = one block, so that no two workers ever write the same
    chunk), or keep an existing one when ``resume``-ing a job and it is still compatible.
    Returns ``True`` if the existing array is reused (its completed blocks stay valid).

    A created array is recorded as DaCapo's, made by ``job`` (a fingerprint; see
    ``ownership``). An existing array that cannot be reused is replaced when ``overwrite`` and
    DaCapo wrote it; otherwise a ``FileExistsError`` explains why it cannot be reused."""
    from funlib.persistence import open_ds

    from dacapo.utils.arrays import create_array

    from .ownership import check_output, new_owner

    dims = roi.dims
    block_voxels = tuple(int(b) // int(v) for b, v in zip(block_shape, voxel_size))
    shape = tuple(int(s) // int(v) for s, v in zip(roi.shape, voxel_size))
    chunks = block_voxels
    if num_channels is not None:
        shape = (num_channels,) + shape
        chunks = (num_channels,) + chunks
    reused = False
    check_output(identifier, (), same_job=True, overwrite=True)  # nothing foreign is touched
    if array_exists(identifier):
        array = open_ds(str(array_path(identifier)), mode="r")
        problem = _compatible(array, roi, voxel_size, shape, dtype, chunks)
        if problem is None and resume:
            reused = True
        elif not overwrite:
            why = problem or "it was written by a different job"
            raise FileExistsError(
                f"output {array_path(identifier)} exists and cannot be reused ({why}); pass "
                "overwrite=True to replace it"
            )
        else:
            logger.info("replacing %s (%s)", array_path(identifier), problem or "a different job")
            shutil.rmtree(array_path(identifier))
    if not reused:
        create_array(
            identifier,
            roi=roi,
            voxel_size=Coordinate(voxel_size),
            num_channels=num_channels,
            dtype=dtype,
            channel_names=channel_names,
            chunk_shape=chunks,
            mode="w",
            attributes=new_owner(identifier, job or {}),
        )
        assert dims == len(block_voxels)
    if attributes:
        import zarr

        zarr.open_array(str(array_path(identifier)), mode="r+").attrs.update(attributes)
    return reused


def open_output(identifier, mode: str = "r+"):
    from funlib.persistence import open_ds

    return open_ds(str(array_path(identifier)), mode=mode)


def array_attributes(array) -> dict:
    try:
        return dict(array._source_data.attrs)
    except AttributeError:
        return {}


def write_cropped(output_array, data_roi: Roi, data: np.ndarray, clip_roi: Optional[Roi] = None) -> None:
    """Write ``data`` (covering ``data_roi``, channels first if it has more dimensions than the
    ROI) into ``output_array``, cropped to ``clip_roi`` (default: the array's ROI)."""
    clip_roi = output_array.roi if clip_roi is None else clip_roi.intersect(output_array.roi)
    target = data_roi.intersect(clip_roi)
    if target.empty:
        return
    voxel_size = Coordinate(output_array.voxel_size)
    begin = (target.offset - data_roi.offset) / voxel_size
    end = begin + target.shape / voxel_size
    spatial = tuple(slice(int(b), int(e)) for b, e in zip(begin, end))
    leading = (slice(None),) * (data.ndim - data_roi.dims)
    output_array[target] = data[leading + spatial]


def crop(data: np.ndarray, data_roi: Roi, roi: Roi, voxel_size: Coordinate) -> np.ndarray:
    """The part of ``data`` (covering ``data_roi``) inside ``roi`` (contained in ``data_roi``)."""
    begin = (roi.offset - data_roi.offset) / voxel_size
    end = begin + roi.shape / voxel_size
    spatial = tuple(slice(int(b), int(e)) for b, e in zip(begin, end))
    return data[(slice(None),) * (data.ndim - data_roi.dims) + spatial]
