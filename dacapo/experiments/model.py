"""A trainable model: an architecture followed by a prediction head (made by a ``Predictor``)."""

from __future__ import annotations

from typing import Optional

import torch
from funlib.geometry import Coordinate


class Model(torch.nn.Module):
    """``architecture`` then ``prediction_head``; ``eval_activation`` is applied only in eval mode
    (e.g. train on logits with ``BCEWithLogitsLoss``, predict probabilities).

    Weights are left as they are: a pretrained architecture or head keeps its weights.
    """

    def __init__(self, architecture, prediction_head: torch.nn.Module,
                 eval_activation: Optional[torch.nn.Module] = None):
        super().__init__()
        self.architecture = architecture
        self.prediction_head = prediction_head
        self.chain = torch.nn.Sequential(architecture, prediction_head)
        self.eval_activation = eval_activation
        self.num_out_channels, self.output_shape = self.compute_output_shape(self.input_shape)

    @property
    def num_in_channels(self) -> int:
        return self.architecture.num_in_channels

    @property
    def input_shape(self) -> Coordinate:
        return Coordinate(self.architecture.input_shape)

    @property
    def eval_input_shape(self) -> Coordinate:
        return self.input_shape + Coordinate(self.architecture.eval_shape_increase)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        result = self.chain(x)
        if not self.training and self.eval_activation is not None:
            result = self.eval_activation(result)
        return result

    def compute_output_shape(self, input_shape: Coordinate) -> tuple[int, Coordinate]:
        """``(channels, spatial shape)`` of the output for an input of spatial ``input_shape``:
        the architecture's exact arithmetic, then the head run on fake tensors (no compute)."""
        assert isinstance(input_shape, Coordinate), f"input_shape must be a Coordinate, got {input_shape!r}"
        spatial = Coordinate(self.architecture.compute_output_shape(input_shape))
        return _head_output(self.prediction_head, self.architecture.num_out_channels, spatial)

    def scale(self, voxel_size: Coordinate) -> Coordinate:
        """Voxel size of the output for input voxels of ``voxel_size``."""
        assert isinstance(voxel_size, Coordinate), f"voxel_size must be a Coordinate, got {voxel_size!r}"
        return self.architecture.scale(voxel_size)


_POINTWISE = (torch.nn.Identity, torch.nn.ReLU, torch.nn.LeakyReLU, torch.nn.Sigmoid, torch.nn.Tanh,
              torch.nn.Softmax, torch.nn.ELU, torch.nn.GELU, torch.nn.Dropout)


def _head_output(head: torch.nn.Module, channels: int, spatial: Coordinate) -> tuple[int, Coordinate]:
    modules = list(head) if isinstance(head, torch.nn.Sequential) else [head]
    for m in modules:
        if isinstance(m, _POINTWISE):
            continue
        if isinstance(m, (torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d)) and not isinstance(m.padding, str):
            spatial = Coordinate(
                (s + 2 * p - d * (k - 1) - 1) // st + 1
                for s, p, d, k, st in zip(spatial, m.padding, m.dilation, m.kernel_size, m.stride)
            )
            channels = m.out_channels
            continue
        return _fake_output(head, channels, spatial)
    return channels, spatial


def _fake_output(head: torch.nn.Module, channels: int, spatial: Coordinate) -> tuple[int, Coordinate]:
    from torch._subclasses.fake_tensor import FakeTensorMode

    was_training = head.training
    head.eval()
    try:
        with FakeTensorMode(allow_non_fake_inputs=True) as mode:
            y = head(mode.from_tensor(torch.empty((1, channels, *spatial))))
    finally:
        head.train(was_training)
    return int(y.shape[1]), Coordinate(int(s) for s in y.shape[2:])
