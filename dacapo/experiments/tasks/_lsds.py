"""Local shape descriptors (Sheridan et al. 2022), a compact numpy/scipy implementation that
matches the ``lsds`` package (funkelab, ``lsd.train.local_shape_descriptor``, mode "gaussian",
voxel size 1, sigma in voxels) to float32 precision; it computes each object only in its
bounding box grown by the window, so it is much faster on many objects.

For each voxel ``x`` of object ``l`` and a Gaussian window ``G`` (sigma in voxels, truncated at
3 sigma), with ``m = [labels == l]``: ``mass = G*m``, ``mean = G*(m p) / mass`` (``p`` the
coordinates) and ``cov = G*(m p p^T) / mass - mean mean^T``. Channels (3D, 10): mean offset
``mean - x`` (3), variances (3), Pearson coefficients of the off-diagonal covariances (zy, zx,
yx: 3), and the mass (1); 2D has 6 (2, 2, 1, 1). Values are mapped to [0, 1]: offsets
``0.5 + offset / (2 sigma)``, variances ``var / sigma^2``, Pearson ``0.5 + r / 2``, mass as is
(a full window has mass 1), clipped; variances below ``VARIANCE_FLOOR`` (voxels²) count as that
floor, also in the Pearson coefficients (as ``lsds`` does); background voxels are 0.

With ``downsample = f > 1`` the descriptors of each object are computed on the grid ``f`` times
coarser (sigma / f) and repeated back; every voxel takes its own object's value there (objects
that have no voxel on the coarse grid get 0).
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

#: variances (voxels² of the full-resolution grid) below this are raised to it
VARIANCE_FLOOR = 1e-3


def num_lsd_channels(dims: int) -> int:
    return dims + dims + dims * (dims - 1) // 2 + 1


def _descriptors(mask: np.ndarray, sigma: float, variance_floor: float) -> np.ndarray:
    """float64 ``(num_lsd_channels, *mask.shape)`` of the object ``mask`` at every voxel of
    the box (not yet restricted to the object)."""
    from scipy.ndimage import gaussian_filter

    def g(values):
        return gaussian_filter(values, sigma, mode="constant", truncate=3.0)

    m = mask.astype(np.float64)
    coords = np.meshgrid(*[np.arange(n, dtype=np.float64) for n in mask.shape], indexing="ij")
    mass = g(m)
    safe = np.where(mass > 0, mass, 1.0)
    means = [g(m * p) / safe for p in coords]
    channels = [0.5 + (mean - p) / (2 * sigma) for p, mean in zip(coords, means)]
    var = [np.maximum(g(m * p * p) / safe - mean * mean, variance_floor)
           for p, mean in zip(coords, means)]
    channels += [v / sigma**2 for v in var]
    for i, j in combinations(range(mask.ndim), 2):
        cov = g(m * coords[i] * coords[j]) / safe - means[i] * means[j]
        channels.append(0.5 + 0.5 * cov / np.sqrt(var[i] * var[j]))
    channels.append(mass)
    return np.clip(np.stack(channels), 0.0, 1.0)


def local_shape_descriptors(labels: np.ndarray, sigma: float, downsample: int = 1) -> np.ndarray:
    """float32 ``(num_lsd_channels(dims), *labels.shape)``; ``sigma`` in voxels (of ``labels``);
    with ``downsample > 1`` computed on a grid that many times coarser (see the module doc)."""
    labels = np.asarray(labels)
    f = max(int(downsample), 1)
    coarse = labels[(slice(None, None, f),) * labels.ndim]
    sigma_coarse = float(sigma) / f
    floor = VARIANCE_FLOOR / f**2  # in coarse voxels²
    out = np.zeros((num_lsd_channels(labels.ndim),) + labels.shape, dtype=np.float32)
    reach = int(np.ceil(3 * sigma_coarse))
    for label in np.unique(coarse):
        if label == 0:
            continue
        where = np.nonzero(coarse == label)
        lo = [max(0, int(w.min()) - reach) for w in where]
        hi = [min(s, int(w.max()) + reach + 1) for w, s in zip(where, coarse.shape)]
        values = _descriptors(
            coarse[tuple(slice(a, b) for a, b in zip(lo, hi))] == label, sigma_coarse, floor
        )
        box = tuple(slice(a * f, min(b * f, n)) for a, b, n in zip(lo, hi, labels.shape))
        for axis in range(1, values.ndim) if f > 1 else ():
            values = np.repeat(values, f, axis=axis)
        values = values[(slice(None),) + tuple(slice(0, s.stop - s.start) for s in box)]
        inside = labels[box] == label
        out[(slice(None),) + box][:, inside] = values[:, inside]
    return out
