"""Instance segmentation of affinities: mutex watershed (``mwatershed``) with a bias sweep.

Voxels without any attractive edge (no affinity above the bias, e.g. membranes) stay alone in
the mutex watershed. With ``background`` they become background (0); otherwise (dense labels,
the default) each joins the nearest fragment, so that every voxel belongs to an object.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Optional, Sequence

import numpy as np

from .._affinities import _shifted_slices
from .post_processor import PostProcessor
from .watershed_post_processor_parameters import WatershedPostProcessorParameters

#: The default bias sweep: a higher bias splits more.
DEFAULT_BIASES: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
#: Least context (voxels per side) of a block along an axis that affinities connect.
MIN_CONTEXT = 8


def foreground(affs: np.ndarray, neighborhood, threshold: float = 0.5) -> np.ndarray:
    """bool: voxels with an incoming or outgoing affinity above ``threshold``."""
    strong = affs > threshold
    fg = strong.any(axis=0)
    for k, offset in enumerate(neighborhood):
        src, dst = _shifted_slices(offset, fg.shape)
        fg[dst] |= strong[k][src]
    return fg


def assign_to_nearest(labels: np.ndarray, unassigned: np.ndarray) -> np.ndarray:
    """``labels`` where every ``unassigned`` voxel takes the label of the nearest assigned one
    (Euclidean distance in voxels; unchanged when nothing or everything is unassigned)."""
    if not unassigned.any() or unassigned.all():
        return labels
    from scipy.ndimage import distance_transform_edt

    nearest = distance_transform_edt(unassigned, return_distances=False, return_indices=True)
    return labels[tuple(nearest)]


@contextmanager
def mwatershed_errors(what: str):
    """Turn a panic of mwatershed's Rust code (``PanicException``, a ``BaseException`` that
    ``except Exception`` misses) into a one-line ``RuntimeError``."""
    try:
        yield
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException as exc:
        if isinstance(exc, Exception):
            raise
        message = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise RuntimeError(f"mwatershed failed on {what}: {message}") from None


def agglom(weights: np.ndarray, offsets, **kwargs) -> np.ndarray:
    """uint64 ``mwatershed.agglom`` of signed edge weights ``(K, *spatial)`` (positive
    attract); offsets longer than the array have no edge in it and are left out (mwatershed
    panics on them); with none left every voxel is alone."""
    import mwatershed

    shape = weights.shape[1:]
    offsets = [[int(o) for o in n] for n in offsets]
    usable = [k for k, o in enumerate(offsets) if all(abs(v) < n for v, n in zip(o, shape))]
    if not usable:
        return np.arange(1, int(np.prod(shape)) + 1, dtype=np.uint64).reshape(shape)
    for key in ("strides",):
        if kwargs.get(key) is not None:
            kwargs[key] = [kwargs[key][k] for k in usable]
    with mwatershed_errors(f"an array of shape {shape} with offsets {offsets}"):
        labels = mwatershed.agglom(
            np.ascontiguousarray(weights[usable], dtype=np.float64),
            [offsets[k] for k in usable], **kwargs,
        )
    return labels.astype(np.uint64)


#: size of the position-dependent jitter that breaks ties between equal affinities (below
#: the resolution of predictions stored as uint16, 1/65535)
TIE_BREAK = 1e-6


def tie_break(shape, num_offsets: int, origin=None) -> np.ndarray:
    """float64 ``(num_offsets, *shape)`` in ``[0, TIE_BREAK)``: a hash of each edge's
    global position (``origin`` + index, voxels) and offset. Added to the affinities, it orders
    equal ones (e.g. of a prediction stored as uint8) the same way whatever part of the volume
    is segmented, so that blocks agree with the whole volume."""
    origin = [0] * len(shape) if origin is None else [int(o) for o in origin]
    primes = (73856093, 19349663, 83492791, 2654435761)
    h = np.full((num_offsets,) + tuple(shape), 0, dtype=np.uint64)
    h += (np.arange(num_offsets, dtype=np.uint64) * np.uint64(primes[3])).reshape(
        (-1,) + (1,) * len(shape)
    )
    for axis, (n, o) in enumerate(zip(shape, origin)):
        coords = (np.arange(n, dtype=np.int64) + o).astype(np.uint64) * np.uint64(primes[axis % 3])
        index = [1] * (len(shape) + 1)
        index[axis + 1] = n
        h ^= coords.reshape(index) + np.uint64((axis + 1) * 0x9E3779B97F4A7C15 % 2**64)
        h *= np.uint64(0xBF58476D1CE4E5B9)  # mix (splitmix64 constant); wraps mod 2**64
        h ^= h >> np.uint64(31)
    return (h >> np.uint64(11)).astype(np.float64) * (TIE_BREAK / 2.0**53)


def mutex_watershed(affs: np.ndarray, neighborhood, bias: float, background: bool = False,
                    background_as_object: bool = False, origin=None) -> np.ndarray:
    """uint64 instance labels of the affinities ``(K, *spatial)`` in [0, 1], ``affs[k, x]``
    the affinity of ``x`` and ``x + neighborhood[k]``. Edges ``aff - bias`` attract when
    positive, repel when negative (mwatershed; without it: connected components of the edges
    above ``bias``). Offsets longer than the array have no edges in it and are left out. Ties
    are broken by position (``tie_break``; ``origin``: the array's first voxel, globally).
    Voxels without an edge above ``bias``: 0 with ``background``, else the nearest fragment's
    (``background_as_object``: labelled as they come, the background being an object)."""
    affs = np.asarray(affs, dtype=np.float64)
    offsets = [[int(o) for o in n] for n in neighborhood]
    try:
        import mwatershed  # noqa: F401
    except ImportError:  # pragma: no cover - fallback
        labels = _components(affs > bias, offsets)
    else:
        labels = agglom(affs - bias + tie_break(affs.shape[1:], len(offsets), origin), offsets)
    if background_as_object:
        return labels
    alone = ~foreground(affs, offsets, bias)
    if background:
        labels[alone] = 0
        return labels
    return assign_to_nearest(labels, alone)


def _components(edges: np.ndarray, offsets) -> np.ndarray:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    shape = edges.shape[1:]
    ids = np.arange(int(np.prod(shape))).reshape(shape)
    rows, cols = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for k, offset in enumerate(offsets):
        src, dst = _shifted_slices(offset, shape)
        on = edges[k][src]
        rows.append(ids[src][on])
        cols.append(ids[dst][on])
    rows = np.concatenate(rows)
    cols = np.concatenate(cols)
    graph = coo_matrix((np.ones(rows.size), (rows, cols)), shape=(ids.size, ids.size))
    _, labels = connected_components(graph, directed=False)
    return (labels.reshape(shape) + 1).astype(np.uint64)


class WatershedPostProcessor(PostProcessor):
    """Mutex watershed of the affinity channels (the first ``len(neighborhood)`` channels of the
    prediction; LSD channels are ignored), swept over ``biases``."""

    output_dtype = np.dtype(np.uint64)
    produces_instances = True

    def __init__(self, neighborhood, biases: Optional[Sequence[float]] = None,
                 background: bool = False, background_as_object: bool = False,
                 blockwise_context: Optional[int] = None):
        self.neighborhood = [tuple(int(o) for o in n) for n in neighborhood]
        self.biases = DEFAULT_BIASES if biases is None else tuple(float(b) for b in biases)
        if not self.biases:
            raise ValueError("WatershedPostProcessor needs at least one bias")
        self.background = bool(background)
        self.background_as_object = bool(background_as_object)
        self.blockwise_context = None if blockwise_context is None else int(blockwise_context)

    def enumerate_parameters(self) -> Iterator[WatershedPostProcessorParameters]:
        for i, bias in enumerate(self.biases):
            yield WatershedPostProcessorParameters(id=i, bias=bias)

    def output_channels(self, num_input_channels: int) -> None:
        return None

    def context(self, dims: int) -> tuple[int, ...]:
        """Along each axis that some offset spans: ``blockwise_context`` if set, else twice
        the longest offset along it, at least ``MIN_CONTEXT``; along the others none (the
        segmentation is separable there)."""
        reach = [max(abs(o[d]) if d < len(o) else 0 for o in self.neighborhood)
                 for d in range(dims)]
        if self.blockwise_context is not None:
            return tuple(self.blockwise_context if r else 0 for r in reach)
        return tuple(max(MIN_CONTEXT, 2 * r) if r else 0 for r in reach)

    def _affinities(self, prediction) -> np.ndarray:
        return np.asarray(prediction)[: len(self.neighborhood)]

    def process(self, parameters, prediction) -> np.ndarray:
        return self.process_at(parameters, prediction, None)

    def process_at(self, parameters, prediction, origin) -> np.ndarray:
        return mutex_watershed(self._affinities(prediction), self.neighborhood, parameters.bias,
                               self.background, self.background_as_object, origin)
