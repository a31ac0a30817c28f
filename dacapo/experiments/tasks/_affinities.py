"""Affinities of instance labels, shared by the affinities predictor and post-processor."""

from __future__ import annotations

import numpy as np


def _shifted_slices(offset, shape):
    """(source slices, neighbour slices) such that ``a[src]`` and ``a[dst]`` pair every voxel
    ``x`` with ``x + offset`` where both are inside the array."""
    src, dst = [], []
    for o, n in zip(offset, shape):
        o = int(o)
        if o >= 0:
            src.append(slice(0, max(n - o, 0)))
            dst.append(slice(min(o, n), n))
        else:
            src.append(slice(min(-o, n), n))
            dst.append(slice(0, max(n + o, 0)))
    return tuple(src), tuple(dst)


def affinities(labels: np.ndarray, neighborhood, background_as_object: bool = False):
    """``(affs uint8 (K, *spatial), inside bool (K, *spatial))``: ``affs[k, x] = 1`` iff
    ``labels[x] == labels[x + neighborhood[k]]`` and (unless ``background_as_object``) the label
    is not 0; ``inside[k, x]``: ``x + neighborhood[k]`` lies in the array (elsewhere the
    affinity is unknown and 0)."""
    labels = np.asarray(labels)
    k = len(neighborhood)
    affs = np.zeros((k,) + labels.shape, dtype=np.uint8)
    inside = np.zeros((k,) + labels.shape, dtype=bool)
    for i, offset in enumerate(neighborhood):
        src, dst = _shifted_slices(offset, labels.shape)
        a, b = labels[src], labels[dst]
        same = a == b
        if not background_as_object:
            same &= a != 0
        affs[i][src] = same
        inside[i][src] = True
    return affs, inside


def pair_valid(valid: np.ndarray | None, neighborhood, shape) -> np.ndarray | None:
    """bool ``(K, *spatial)``: both voxels of every edge valid (None if ``valid`` is None)."""
    if valid is None:
        return None
    out = np.zeros((len(neighborhood),) + tuple(shape), dtype=bool)
    for i, offset in enumerate(neighborhood):
        src, dst = _shifted_slices(offset, shape)
        out[i][src] = valid[src] & valid[dst]
    return out


def grow_boundary(labels: np.ndarray, iterations: int) -> np.ndarray:
    """Set to 0, ``iterations`` times, the object voxels that touch (face neighbours) a voxel of
    another object: widens the boundaries between touching objects (as gunpowder's
    ``GrowBoundary``); boundaries to background are left."""
    labels = np.array(labels, copy=True)
    grown = np.zeros(labels.shape, dtype=bool)  # the boundary voxels erased so far
    for _ in range(int(iterations)):
        erase = np.zeros(labels.shape, dtype=bool)
        for axis in range(labels.ndim):
            for o in (1, -1):
                offset = [0] * labels.ndim
                offset[axis] = o
                src, dst = _shifted_slices(offset, labels.shape)
                a, b = labels[src], labels[dst]
                erase[src] |= (a != 0) & (((b != 0) & (a != b)) | grown[dst])
        labels[erase] = 0
        grown |= erase
    return labels
