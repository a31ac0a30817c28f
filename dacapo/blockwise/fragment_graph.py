"""The fragment graph of a blockwise instance segmentation, and its agglomeration.

Each block labels its read ROI (its write ROI grown by a context) and keeps the fragments of its
write ROI. Fragments of different blocks are joined through the edges of the segmentation's own
graph (e.g. affinities ``x -> x + offset`` minus the bias): every voxel edge between two
fragments of different blocks is counted once, by the block that runs second, into the sum and
count of its fragment pair. Fragment pairs inside one block were kept apart by that block (with
its context): they become hard mutex constraints. The merge runs the mutex watershed on the
fragment graph: cross-block pairs by decreasing ``|mean weight|`` (ties by ids, so the result is
deterministic and independent of the block order and the number of workers); a positive mean
merges two clusters unless a mutex separates them, a negative one adds a mutex. With a single
block there is no cross-block edge and the result is the block's own segmentation.
"""

from __future__ import annotations

import numpy as np

from dacapo.experiments.tasks._affinities import _shifted_slices

#: weight of the mutex between two fragments a block kept apart (processed before any other)
HARD_MUTEX = -np.inf


def fragment_edges(labels: np.ndarray, owned: np.ndarray, offsets, weights: np.ndarray):
    """``(cross, inner)`` edges between fragments. ``labels`` (*spatial, uint64, 0 = unknown)
    holds this block's fragments where ``owned`` and its done neighbours' elsewhere;
    ``weights[k, x]`` is the weight of the edge ``x -> x + offsets[k]``. Only edges with at
    least one end owned count. ``cross``: float64 ``(n, 4)`` rows ``(u, v, weight sum, count)``
    with ``u < v`` for pairs between an owned and a neighbour's fragment; ``inner``: uint64
    ``(m, 2)`` pairs of distinct owned fragments that touch."""
    us, vs, ws, both = [], [], [], []
    for k, offset in enumerate(offsets):
        src, dst = _shifted_slices(offset, labels.shape)
        a, b = labels[src], labels[dst]
        oa, ob = owned[src], owned[dst]
        keep = (a != 0) & (b != 0) & (a != b) & (oa | ob)
        if not keep.any():
            continue
        us.append(a[keep])
        vs.append(b[keep])
        ws.append(weights[k][src][keep].astype(np.float64))
        both.append(oa[keep] & ob[keep])
    if not us:
        return np.zeros((0, 4)), np.zeros((0, 2), dtype=np.uint64)
    u, v, w, inner = (np.concatenate(x) for x in (us, vs, ws, both))
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    inner_pairs = np.unique(np.stack([lo[inner], hi[inner]], axis=1), axis=0)
    return aggregate(lo[~inner], hi[~inner], w[~inner], np.ones((~inner).sum())), inner_pairs


def aggregate(u, v, sums, counts) -> np.ndarray:
    """Rows ``(u, v, sum, count)`` summed per pair ``(u, v)``, sorted by pair."""
    if len(u) == 0:
        return np.zeros((0, 4))
    pairs, inverse = np.unique(np.stack([u, v], axis=1).astype(np.uint64), axis=0,
                               return_inverse=True)
    inverse = inverse.ravel()
    total = np.bincount(inverse, weights=np.asarray(sums, dtype=np.float64), minlength=len(pairs))
    number = np.bincount(inverse, weights=np.asarray(counts, dtype=np.float64), minlength=len(pairs))
    return np.concatenate([pairs.astype(np.float64), total[:, None], number[:, None]], axis=1)


def agglomerate(ids: np.ndarray, cross: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """Component index (0 ..) of each fragment of ``ids`` (sorted uint64) after the mutex
    watershed of the fragment graph (see the module doc), numbered in order of each object's
    smallest fragment."""
    n = len(ids)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    # fragment ids are exact in float64 only below 2**53: look them up as integers
    cross_u = np.searchsorted(ids, cross[:, 0].astype(np.uint64)) if len(cross) else np.zeros(0, int)
    cross_v = np.searchsorted(ids, cross[:, 1].astype(np.uint64)) if len(cross) else np.zeros(0, int)
    mean = cross[:, 2] / cross[:, 3] if len(cross) else np.zeros(0)
    inner_u = np.searchsorted(ids, inner[:, 0]) if len(inner) else np.zeros(0, int)
    inner_v = np.searchsorted(ids, inner[:, 1]) if len(inner) else np.zeros(0, int)
    u = np.concatenate([inner_u, cross_u]).astype(np.int64)
    v = np.concatenate([inner_v, cross_v]).astype(np.int64)
    w = np.concatenate([np.full(len(inner_u), HARD_MUTEX), mean])
    order = np.lexsort((v, u, -np.abs(w)))
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
