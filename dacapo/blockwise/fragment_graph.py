"""Stitching the fragments of a blockwise instance segmentation by a mutex watershed of their
graph (for segmentations that are not transitive, e.g. the mutex watershed itself).

Each block labels its read ROI (its write ROI grown by a context) and keeps the fragments of its
write ROI. When a block runs after a neighbour, its own labels computed into the neighbour's
write ROI (the context) are compared with the neighbour's fragments there: each overlapping pair
gets the weight ``overlap / (the smaller of the two, in that region) - 1/2`` (positive: mostly
the same object). Distinct fragments of one block that touch were kept apart by that block, with
its context: they become hard mutex constraints. The merge processes the edges by decreasing
``|weight|`` (mutexes first; ties by the overlap in voxels, then by ids, so the result is deterministic and independent of
the block order and the number of workers): a positive weight merges two clusters unless a
mutex separates them, a negative one adds a mutex. So an object seen whole by one block and in
pieces by another is joined, but a chain of partial overlaps cannot merge objects that a block
separated. Where each block's context covers everything that influences its write ROI, the
result is exactly the whole-volume segmentation (a single block always is).
"""

from __future__ import annotations

import numpy as np

from dacapo.experiments.tasks._affinities import _shifted_slices

#: weight of the mutex between two fragments a block kept apart (processed before any other)
HARD_MUTEX = -np.inf


def touching_pairs(labels: np.ndarray) -> np.ndarray:
    """uint64 ``(m, 2)`` pairs ``u < v`` of distinct non-zero labels that are face neighbours."""
    pairs = [np.zeros((0, 2), dtype=np.uint64)]
    for axis in range(labels.ndim):
        offset = [0] * labels.ndim
        offset[axis] = 1
        src, dst = _shifted_slices(offset, labels.shape)
        a, b = labels[src], labels[dst]
        keep = (a != 0) & (b != 0) & (a != b)
        pairs.append(np.stack([np.minimum(a[keep], b[keep]), np.maximum(a[keep], b[keep])], 1))
    return np.unique(np.concatenate(pairs).astype(np.uint64), axis=0)


def agglomerate(ids: np.ndarray, pairs: np.ndarray, weights: np.ndarray, sizes: np.ndarray,
                mutexes: np.ndarray) -> np.ndarray:
    """Component index (0 ..) of each fragment of ``ids`` (sorted uint64) after the mutex
    watershed of the edges ``pairs`` (uint64 ``(n, 2)``) with ``weights`` (equal ``|weight|``:
    larger ``sizes`` first, then by ids) and the hard ``mutexes`` (uint64 ``(m, 2)``),
    numbered in order of each component's smallest fragment."""
    n = len(ids)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    pairs = np.concatenate([mutexes.reshape(-1, 2), pairs.reshape(-1, 2)]).astype(np.uint64)
    w = np.concatenate([np.full(len(mutexes), HARD_MUTEX), np.asarray(weights, dtype=float)])
    size = np.concatenate([np.full(len(mutexes), np.inf), np.asarray(sizes, dtype=float)])
    u, v = np.searchsorted(ids, pairs[:, 0]), np.searchsorted(ids, pairs[:, 1])
    order = np.lexsort((np.maximum(u, v), np.minimum(u, v), -size, -np.abs(w)))
    roots = np.arange(n)
    if len(order):
        import mwatershed

        from dacapo.experiments.tasks.post_processors.watershed_post_processor import (
            mwatershed_errors,
        )

        edges = [(bool(w[i] > 0), int(u[i]), int(v[i])) for i in order]
        with mwatershed_errors(f"a fragment graph of {n} fragments"):
            clusters = mwatershed.cluster(edges)
        for fragment, segment in clusters:
            roots[int(fragment)] = int(segment)
    # consecutive numbers in order of each component's smallest fragment
    _, first, components = np.unique(roots, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first)] = np.arange(len(first))
    return rank[components.ravel()]
