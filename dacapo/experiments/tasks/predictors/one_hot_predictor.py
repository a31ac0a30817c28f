"""One-hot predictor: one channel per class, softmax in eval, class-balanced weights.

gt: the class of every voxel, either as an integer class array (``(*spatial)`` or
``(1, *spatial)``, values ``0 .. n_classes - 1``) or as binary channels, one per class
(``(n_classes, *spatial)``, e.g. a ``BinarizeArrayConfig`` with one grouping per class, in the
order of ``classes``): the class of a voxel is then its (first) set channel. Voxels whose class
is unknown (an index outside ``0 .. n - 1``, or no channel set) get weight 0 and are ignored by
the evaluator. To map label ids to classes, use a ``BinarizeArrayConfig`` with one grouping of
ids per class, or, for two classes (background, object), a single binary channel.
"""

from __future__ import annotations

import numpy as np

from .._heads import conv_head
from .predictor import Predictor


def class_indices(gt: np.ndarray, num_classes: int, dims: int) -> tuple[np.ndarray, np.ndarray]:
    """``(indices int64 (*spatial), known bool (*spatial))`` from gt in either form (see the
    module doc). Unknown voxels have index 0 and ``known`` False."""
    gt = np.asarray(gt)
    if gt.ndim == dims + 1 and gt.shape[0] == num_classes and num_classes > 1:
        channels = gt != 0
        known = channels.any(axis=0)
        return np.argmax(channels, axis=0).astype(np.int64), known
    if gt.ndim == dims + 1 and gt.shape[0] == 1:
        gt = gt[0]
    if gt.ndim != dims:
        raise ValueError(
            f"gt of shape {gt.shape} is neither a class array ({dims}D, or one channel) nor "
            f"{num_classes} binary class channels"
        )
    if gt.dtype == bool:
        gt = gt.astype(np.uint8)
    known = (gt >= 0) & (gt < num_classes)
    return np.where(known, gt, 0).astype(np.int64), known


def one_hot(indices: np.ndarray, known: np.ndarray, num_classes: int) -> np.ndarray:
    """uint8 ``(num_classes, *spatial)``; unknown voxels are all zero."""
    out = np.zeros((num_classes,) + indices.shape, dtype=np.uint8)
    for c in range(num_classes):
        out[c] = (indices == c) & known
    return out


class OneHotPredictor(Predictor):
    """Args:
        classes: class names (the output channels), in the order of the gt class indices.
        kernel_size: kernel size of the head convolution (odd; default 1).
        clipmin, clipmax: class frequencies are clipped to this range before balancing.
    """

    def __init__(self, classes, kernel_size=None, clipmin: float = 0.05, clipmax: float = 0.95):
        self.classes = [str(c) for c in classes]
        if len(self.classes) < 2:
            raise ValueError("OneHotPredictor needs at least two classes")
        self.kernel_size = 1 if kernel_size is None else int(kernel_size)
        self.clipmin = float(clipmin)
        self.clipmax = float(clipmax)

    @property
    def channels(self) -> list[str]:
        return list(self.classes)

    output_range = (0.0, 1.0)  # sigmoid / softmax in eval mode

    def create_model(self, architecture):
        import torch

        from dacapo.experiments.model import Model

        head = conv_head(architecture, self.num_channels, self.kernel_size)
        return Model(architecture, head, eval_activation=torch.nn.Softmax(dim=1))

    def create_target(self, gt, voxel_size) -> np.ndarray:
        """float32 one-hot ``(n_classes, *spatial)`` (all zero where the class is unknown)."""
        indices, known = class_indices(gt, self.num_channels, len(voxel_size))
        return one_hot(indices, known, self.num_channels).astype(np.float32)

    def create_weight(self, gt, target, mask, voxel_size) -> np.ndarray:
        """float32 ``(n_classes, *spatial)``, the same in every channel: within the valid voxels
        (known class, ``mask != 0``) a voxel of class ``c`` weighs ``1 / (k f_c)``, ``f_c`` the
        frequency of ``c`` clipped to ``[clipmin, clipmax]`` and ``k`` the number of classes
        present (1 for every voxel when the classes are balanced); invalid voxels weigh 0."""
        indices, known = class_indices(gt, self.num_channels, len(voxel_size))
        valid = known
        if mask is not None:
            m = np.asarray(mask)
            if m.ndim == indices.ndim + 1:
                m = m.max(axis=0) if m.shape[0] > 1 else m[0]
            valid = valid & (m != 0)
        weight = np.zeros(indices.shape, dtype=np.float32)
        n = int(np.count_nonzero(valid))
        if n:
            counts = np.bincount(indices[valid], minlength=self.num_channels)
            present = int(np.count_nonzero(counts))
            freq = np.clip(counts / n, self.clipmin, self.clipmax)
            per_class = (1.0 / (present * freq)).astype(np.float32)
            weight[valid] = per_class[indices[valid]]
        return np.broadcast_to(weight, (self.num_channels,) + weight.shape).astype(np.float32)
