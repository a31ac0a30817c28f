"""Base of the runtime architectures: a ``torch.nn.Module`` that knows its shapes."""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch
from funlib.geometry import Coordinate


class Architecture(torch.nn.Module, ABC):
    @property
    @abstractmethod
    def input_shape(self) -> Coordinate:
        """Spatial shape (voxels) of the training input."""

    @property
    def eval_shape_increase(self) -> Coordinate:
        return Coordinate((0,) * self.input_shape.dims)

    @property
    @abstractmethod
    def num_in_channels(self) -> int: ...

    @property
    @abstractmethod
    def num_out_channels(self) -> int: ...

    @property
    def dims(self) -> int:
        return self.input_shape.dims

    def compute_output_shape(self, input_shape: Coordinate) -> Coordinate:
        """Spatial output shape for ``input_shape``. This default runs the module on fake tensors
        (no memory, no compute); subclasses override it with the exact arithmetic."""
        from torch._subclasses.fake_tensor import FakeTensorMode

        input_shape = Coordinate(input_shape)
        with FakeTensorMode(allow_non_fake_inputs=True) as mode:
            x = mode.from_tensor(torch.empty((1, self.num_in_channels, *input_shape)))
            was_training = self.training
            self.eval()  # batch norm must not update its statistics
            try:
                y = self(x)
            finally:
                self.train(was_training)
        return Coordinate(int(s) for s in y.shape[2:])

    def scale(self, input_voxel_size: Coordinate) -> Coordinate:
        """Voxel size of the output for an input of ``input_voxel_size``."""
        return input_voxel_size
