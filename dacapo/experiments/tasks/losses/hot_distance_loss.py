"""Loss of the hot-distance task: weighted BCE on the binary half, weighted MSE on the rest."""

from __future__ import annotations

from .loss import Loss


class HotDistanceLoss(Loss):
    """``mean(w * BCE_with_logits)`` over the first ``num_hot`` channels plus
    ``mean(w * (prediction - target)^2)`` over the distance channels."""

    def __init__(self, num_hot: int):
        self.num_hot = int(num_hot)

    def compute(self, prediction, target, weight=None):
        import torch.nn.functional as F

        if prediction.shape != target.shape:
            raise ValueError(
                f"prediction shape {tuple(prediction.shape)} differs from target shape "
                f"{tuple(target.shape)}"
            )
        k = self.num_hot
        target = target.to(dtype=prediction.dtype)
        bce = F.binary_cross_entropy_with_logits(prediction[:, :k], target[:, :k], reduction="none")
        mse = (prediction[:, k:] - target[:, k:]) ** 2
        if weight is not None:
            weight = weight.to(dtype=prediction.dtype)
            bce = bce * weight[:, :k]
            mse = mse * weight[:, k:]
        return bce.mean() + mse.mean()
