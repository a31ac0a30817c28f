"""Shared helpers of the predictors: convolutional heads and gt channel handling."""

from __future__ import annotations

import numpy as np


def conv_head(architecture, out_channels: int, kernel_size: int = 1):
    """A convolution from the architecture's output channels to ``out_channels`` (odd
    ``kernel_size``, zero padding ``kernel_size // 2``: the spatial shape is kept)."""
    import torch

    convs = {1: torch.nn.Conv1d, 2: torch.nn.Conv2d, 3: torch.nn.Conv3d}
    dims = int(architecture.dims)
    if dims not in convs:
        raise ValueError(f"heads support 1 to 3 spatial dims, not {dims}")
    kernel_size = int(kernel_size)
    if kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(f"head kernel_size must be odd and positive, got {kernel_size}")
    return convs[dims](
        architecture.num_out_channels, out_channels, kernel_size=kernel_size,
        padding=kernel_size // 2,
    )


def spatial_labels(gt: np.ndarray, dims: int, what: str = "gt") -> np.ndarray:
    """A label array without channel axis: ``(*spatial)`` or ``(1, *spatial)`` -> ``(*spatial)``."""
    gt = np.asarray(gt)
    if gt.ndim == dims + 1 and gt.shape[0] == 1:
        gt = gt[0]
    if gt.ndim != dims:
        raise ValueError(
            f"{what} of shape {gt.shape} is not a single-channel {dims}D label array"
        )
    return gt


def spatial_mask(mask, shape) -> np.ndarray | None:
    """bool valid-mask of ``shape`` (spatial) from a uint8 mask (``(*spatial)`` or
    ``(1, *spatial)``), or None (all valid)."""
    if mask is None:
        return None
    mask = np.asarray(mask)
    if mask.ndim == len(shape) + 1 and mask.shape[0] == 1:
        mask = mask[0]
    if mask.shape != tuple(shape):
        raise ValueError(f"mask of shape {mask.shape} does not match gt of shape {tuple(shape)}")
    valid = mask != 0
    return None if valid.all() else valid
