"""Euclidean distance transforms in world units (nm), shared by predictors and evaluators.

``edt`` (seung-lab, exact, anisotropic, multi-label) does the work for 1 to 3 spatial
dimensions; scipy is the fallback for more. Distances are between voxel centres.
"""

from __future__ import annotations

import numpy as np


def distance_to_zero(
    data: np.ndarray, voxel_size, black_border: bool = False, parallel: int = 1
) -> np.ndarray:
    """For each non-zero voxel, the distance (world units, float32) to the centre of the nearest
    voxel whose value differs (for a binary array: the nearest zero voxel); 0 on zero voxels.
    ``inf`` where there is no such voxel (all non-zero and ``black_border=False``).
    With ``black_border=True`` the voxels just outside the array count as zeros."""
    data = np.ascontiguousarray(data)
    if data.dtype == bool:
        data = data.view(np.uint8)  # edt is ~2x faster on uint8 than on bool
    anisotropy = tuple(float(v) for v in voxel_size)
    if len(anisotropy) != data.ndim:
        raise ValueError(f"voxel size {tuple(voxel_size)} does not match a {data.ndim}D array")
    if 1 <= data.ndim <= 3:
        import edt

        if data.ndim == 1:
            anisotropy = anisotropy[0]
        return edt.edt(data, anisotropy=anisotropy, black_border=black_border, parallel=parallel)
    return _scipy_distance_to_zero(data != 0, anisotropy, black_border)


def _scipy_distance_to_zero(data: np.ndarray, anisotropy, black_border: bool) -> np.ndarray:
    from scipy.ndimage import distance_transform_edt

    if black_border:
        data = np.pad(data, 1, constant_values=False)
    if data.all():
        out = np.full(data.shape, np.inf, dtype=np.float32)
    else:
        out = distance_transform_edt(data, sampling=anisotropy).astype(np.float32)
    if black_border:
        out = out[(slice(1, -1),) * data.ndim]
    return out


def unsigned_boundary_distance(fg: np.ndarray, voxel_size, parallel: int = 1) -> np.ndarray:
    """For every voxel, the distance to the nearest voxel of the other class (foreground vs
    background): one multi-label pass. ``inf`` everywhere if ``fg`` is all true or all false."""
    fg = np.asarray(fg, dtype=bool)
    if fg.ndim > 3:
        return np.where(
            fg,
            _scipy_distance_to_zero(fg, tuple(voxel_size), False),
            _scipy_distance_to_zero(~fg, tuple(voxel_size), False),
        ).astype(np.float32)
    labels = fg.view(np.uint8) + np.uint8(1)  # background 1, foreground 2: no zeros
    return distance_to_zero(labels, voxel_size, black_border=False, parallel=parallel)


def distance_to_border(shape, voxel_size) -> np.ndarray:
    """For every voxel, the distance to the nearest voxel centre just outside the array
    (``min over axes of min(i + 1, n - i) * voxel_size``), float32."""
    out = None
    for axis, (n, v) in enumerate(zip(shape, voxel_size)):
        i = np.arange(n)
        d = (np.minimum(i + 1, n - i) * float(v)).astype(np.float32)
        d = d.reshape((n,) + (1,) * (len(shape) - axis - 1))
        out = d if out is None else np.minimum(out, d)
    return np.broadcast_to(out, tuple(shape)).astype(np.float32)
