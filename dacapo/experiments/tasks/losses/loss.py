"""Base of the losses."""

from __future__ import annotations

from abc import ABC, abstractmethod


class Loss(ABC):
    @abstractmethod
    def compute(self, prediction, target, weight=None):
        """A scalar ``torch.Tensor`` comparing ``prediction`` with ``target`` under ``weight``
        (all ``(b, c, *spatial)``; ``weight=None`` means all ones)."""
