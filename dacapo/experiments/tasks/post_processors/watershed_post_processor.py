"""Instance segmentation of affinities: mutex watershed (``mwatershed``) with a bias sweep."""

from __future__ import annotations

from typing import Iterator, Sequence

import numpy as np

from .._affinities import _shifted_slices
from .post_processor import PostProcessor
from .watershed_post_processor_parameters import WatershedPostProcessorParameters

DEFAULT_BIASES: tuple[float, ...] = (0.3, 0.4, 0.5, 0.6, 0.7)


def foreground(affs: np.ndarray, neighborhood, threshold: float = 0.5) -> np.ndarray:
    """bool: voxels with an incoming or outgoing affinity above ``threshold`` (background voxels
    have no affinity to anything)."""
    strong = affs > threshold
    fg = strong.any(axis=0)
    for k, offset in enumerate(neighborhood):
        src, dst = _shifted_slices(offset, fg.shape)
        fg[dst] |= strong[k][src]
    return fg


def mutex_watershed(affs: np.ndarray, neighborhood, bias: float,
                    background_as_object: bool = False) -> np.ndarray:
    """uint64 instance labels (0 = background unless ``background_as_object``) of the
    affinities ``(K, *spatial)`` in [0, 1], ``affs[k, x]`` the affinity of ``x`` and
    ``x + neighborhood[k]``. Edges ``aff - bias`` attract when positive, repel when negative
    (mwatershed); without ``mwatershed`` installed: connected components of the edges above
    ``bias`` (a plain agglomeration, no mutex constraints)."""
    affs = np.asarray(affs, dtype=np.float64)
    offsets = [list(int(o) for o in n) for n in neighborhood]
    try:
        import mwatershed
    except ImportError:  # pragma: no cover - fallback
        labels = _components(affs > bias, offsets)
    else:
        labels = mwatershed.agglom(affs - bias, offsets).astype(np.uint64)
    if not background_as_object:
        labels[~foreground(affs, offsets)] = 0
    return labels


def _components(edges: np.ndarray, offsets) -> np.ndarray:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    shape = edges.shape[1:]
    ids = np.arange(int(np.prod(shape))).reshape(shape)
    rows, cols = [], []
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

    def __init__(self, neighborhood, biases: Sequence[float] | None = None,
                 background_as_object: bool = False):
        self.neighborhood = [tuple(int(o) for o in n) for n in neighborhood]
        self.biases = DEFAULT_BIASES if biases is None else tuple(float(b) for b in biases)
        self.background_as_object = bool(background_as_object)

    def enumerate_parameters(self) -> Iterator[WatershedPostProcessorParameters]:
        for i, bias in enumerate(self.biases):
            yield WatershedPostProcessorParameters(id=i, bias=bias)

    def process(self, parameters, prediction) -> np.ndarray:
        affs = np.asarray(prediction)[: len(self.neighborhood)]
        return mutex_watershed(affs, self.neighborhood, parameters.bias, self.background_as_object)
