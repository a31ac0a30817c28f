"""Small torch modules used as eval activations (imported only when a model is built)."""

from __future__ import annotations

import torch


class SigmoidFirst(torch.nn.Module):
    """Sigmoid on the first ``num_channels`` channels, identity on the others."""

    def __init__(self, num_channels: int):
        super().__init__()
        self.num_channels = int(num_channels)

    def forward(self, x):
        k = self.num_channels
        return torch.cat([torch.sigmoid(x[:, :k]), x[:, k:]], dim=1)
