"""Weighted binary cross-entropy on affinity logits (+ LSD channels)."""

from __future__ import annotations

from .loss import Loss


class AffinitiesLoss(Loss):
    """``mean(weight * BCE_with_logits(prediction, target))`` over the first
    ``num_affinities`` channels, plus ``lsds_to_affs_weight_ratio`` times the same over the
    remaining (LSD, targets in [0, 1]) channels. Means are over all elements (all-zero weights
    give 0)."""

    def __init__(self, num_affinities: int, lsds_to_affs_weight_ratio: float = 1.0):
        self.num_affinities = int(num_affinities)
        self.lsds_to_affs_weight_ratio = float(lsds_to_affs_weight_ratio)

    def compute(self, prediction, target, weight=None):
        import torch.nn.functional as F

        if prediction.shape != target.shape:
            raise ValueError(
                f"prediction shape {tuple(prediction.shape)} differs from target shape "
                f"{tuple(target.shape)}"
            )
        target = target.to(dtype=prediction.dtype)
        weight = None if weight is None else weight.to(dtype=prediction.dtype)
        k = self.num_affinities

        def part(sl):
            bce = F.binary_cross_entropy_with_logits(
                prediction[:, sl], target[:, sl], reduction="none"
            )
            if weight is not None:
                bce = bce * weight[:, sl]
            return bce.mean()

        loss = part(slice(0, k))
        if prediction.shape[1] > k:
            loss = loss + self.lsds_to_affs_weight_ratio * part(slice(k, None))
        return loss
