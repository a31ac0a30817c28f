"""Small ``torch.nn.Module`` classes imported by path in the architecture wrapper tests."""

from __future__ import annotations

import torch


class TinyConvNet(torch.nn.Module):
    """Two valid 3³ convolutions: the output is 4 voxels smaller per axis."""

    def __init__(self, in_channels: int = 1, out_channels: int = 4, width: int = 4):
        super().__init__()
        self.layers = torch.nn.Sequential(
            torch.nn.Conv3d(in_channels, width, 3),
            torch.nn.ReLU(),
            torch.nn.Conv3d(width, out_channels, 3),
        )

    def forward(self, x):
        return self.layers(x)


class DataDependent(torch.nn.Module):
    """Crops by an amount read from the data: fake tensors cannot run it, a real forward can."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 2, 1)

    def forward(self, x):
        crop = int(x.detach().abs().sum().item() > 1e9) + 1
        return self.conv(x)[..., crop:-crop, crop:-crop]


NOT_A_MODULE = 42
