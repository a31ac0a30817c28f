"""Local shape descriptors (Sheridan et al. 2022), a compact numpy/scipy implementation.

For each voxel ``x`` of object ``l`` and a Gaussian window ``G`` (sigma in voxels), with
``m = [labels == l]``: ``mass = G*m``, ``mean = G*(m p) / mass`` (``p`` the coordinates) and
``cov = G*(m p p^T) / mass - mean mean^T``. Channels (3D, 10): mean offset ``mean - x`` (3),
variances (3), Pearson coefficients of the off-diagonal covariances (3), and the mass (1);
2D has 6 (2, 2, 1, 1). Values are mapped to [0, 1]: offsets ``0.5 + offset / (2 sigma)``,
variances ``var / sigma^2``, Pearson ``0.5 + r / 2``, mass as is (a full window has mass 1);
background voxels are 0.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np


def num_lsd_channels(dims: int) -> int:
    return dims + dims + dims * (dims - 1) // 2 + 1


def local_shape_descriptors(labels: np.ndarray, sigma: float, downsample: int = 1) -> np.ndarray:
    """float32 ``(num_lsd_channels(dims), *labels.shape)``; ``sigma`` in voxels (of ``labels``);
    with ``downsample > 1`` computed on a grid that many times coarser and repeated back."""
    labels = np.asarray(labels)
    downsample = int(downsample)
    if downsample > 1:
        coarse = labels[(slice(None, None, downsample),) * labels.ndim]
        out = local_shape_descriptors(coarse, sigma / downsample, 1)
        for axis in range(labels.ndim):
            out = np.repeat(out, downsample, axis=axis + 1)
        return np.ascontiguousarray(out[(slice(None),) + tuple(slice(0, s) for s in labels.shape)])
    from scipy.ndimage import gaussian_filter

    dims = labels.ndim
    sigma = float(sigma)
    out = np.zeros((num_lsd_channels(dims),) + labels.shape, dtype=np.float32)
    reach = int(np.ceil(3 * sigma))
    pairs = list(combinations(range(dims), 2))
    for label in np.unique(labels):
        if label == 0:
            continue
        where = np.nonzero(labels == label)
        lo = [max(0, int(w.min()) - reach) for w in where]
        hi = [min(s, int(w.max()) + reach + 1) for w, s in zip(where, labels.shape)]
        box = tuple(slice(a, b) for a, b in zip(lo, hi))
        m = (labels[box] == label).astype(np.float64)
        coords = np.meshgrid(*[np.arange(b - a, dtype=np.float64) for a, b in zip(lo, hi)],
                             indexing="ij")

        def g(values):
            return gaussian_filter(values, sigma, mode="constant", truncate=3.0)

        mass = g(m)
        inside = m > 0
        safe = np.where(mass > 0, mass, 1.0)
        means = [g(m * p) / safe for p in coords]
        channels = []
        for p, mean in zip(coords, means):
            channels.append(0.5 + (mean - p) / (2 * sigma))
        var = []
        for p, mean in zip(coords, means):
            v = np.maximum(g(m * p * p) / safe - mean * mean, 0.0)
            var.append(v)
            channels.append(v / sigma**2)
        for i, j in pairs:
            cov = g(m * coords[i] * coords[j]) / safe - means[i] * means[j]
            denominator = np.sqrt(var[i] * var[j])
            r = np.where(denominator > 1e-12, cov / np.where(denominator > 1e-12, denominator, 1), 0)
            channels.append(0.5 + 0.5 * np.clip(r, -1, 1))
        channels.append(mass)
        for c, values in enumerate(channels):
            out[c][box][inside] = np.clip(values[inside], 0.0, 1.0)
    return out
