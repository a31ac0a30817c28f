"""dacapo-ml 0.3.5's ``DummyLoss``: the summed absolute difference, for testing training loops."""

from __future__ import annotations

from .loss import Loss


class DummyLoss(Loss):
    def compute(self, prediction, target, weight=None):
        difference = abs(prediction - target)
        return (difference if weight is None else difference * weight).sum()
