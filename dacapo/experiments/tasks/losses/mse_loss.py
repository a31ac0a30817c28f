"""Weighted mean squared error."""

from __future__ import annotations

from .loss import Loss


class MSELoss(Loss):
    """``mean(weight * (prediction - target) ** 2)`` over all elements.

    The weight multiplies the squared error (the original computed
    ``MSE(prediction * weight, target * weight)``, i.e. weighted by ``weight ** 2``). The mean
    is over all elements, not over the weight sum: all-zero weights give a loss of exactly 0
    (with zero gradients), never NaN, and the loss scale does not jump with the fraction of
    masked voxels in a batch."""

    def compute(self, prediction, target, weight=None):
        if prediction.shape != target.shape:
            raise ValueError(
                f"prediction shape {tuple(prediction.shape)} differs from target shape "
                f"{tuple(target.shape)}"
            )
        target = target.to(dtype=prediction.dtype)
        error = (prediction - target) ** 2
        if weight is not None:
            error = error * weight.to(dtype=prediction.dtype)
        return error.mean()
