"""Weighted, masked cross-entropy over a channel (class) axis."""

from __future__ import annotations

from .loss import Loss


class CrossEntropyLoss(Loss):
    """``mean over voxels of w * (-sum_c target_c * log_softmax(prediction)_c)``.

    ``prediction``: logits ``(b, C, *spatial)``; ``target``: one-hot (or soft) ``(b, C, ...)``;
    ``weight``: ``(b, C, ...)`` or ``(b, 1, ...)``; a voxel's weight is ``sum_c weight_c *
    target_c`` (the weight of its class). Unknown voxels (all-zero target or weight) add 0. The
    mean is over all voxels (all-zero weights give exactly 0, never NaN)."""

    def compute(self, prediction, target, weight=None):
        import torch

        if prediction.shape != target.shape:
            raise ValueError(
                f"prediction shape {tuple(prediction.shape)} differs from target shape "
                f"{tuple(target.shape)}"
            )
        target = target.to(dtype=prediction.dtype)
        log_p = torch.log_softmax(prediction, dim=1)
        per_class = -(target * log_p)
        if weight is not None:
            per_class = per_class * weight.to(dtype=prediction.dtype)
        return per_class.sum(dim=1).mean()
