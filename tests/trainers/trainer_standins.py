"""Small stand-ins for the parts the trainer uses: datasets of in-memory funlib Arrays, a model
that only has shapes, and a numpy predictor."""

from __future__ import annotations

import types

import numpy as np
from funlib.geometry import Coordinate
from funlib.persistence import Array


def array(data, voxel_size, offset=None, channels=0):
    dims = len(voxel_size)
    spatial = ["z", "y", "x"][-dims:]
    names = (["c^"] if channels else []) + spatial
    return Array(
        np.asarray(data),
        offset=Coordinate(offset) if offset is not None else Coordinate((0,) * dims),
        voxel_size=Coordinate(voxel_size),
        axis_names=names,
        units=["nm"] * dims,
    )


def dataset(raw, gt, mask=None, weight=1, name="ds", sample_points=None):
    return types.SimpleNamespace(
        name=name, weight=weight, raw=raw, gt=gt, mask=mask, sample_points=sample_points
    )


class Model:
    """Shapes only. ``scale`` multiplies the raw voxel size by ``factor`` (2: the output and
    gt are at twice the raw voxel size)."""

    def __init__(self, input_shape, output_shape, factor=1, in_channels=1, out_channels=1):
        self.input_shape = Coordinate(input_shape)
        self.output_shape = Coordinate(output_shape)
        self.factor = factor
        self.num_in_channels = in_channels
        self.num_out_channels = out_channels

    def compute_output_shape(self, shape):
        return self.num_out_channels, self.output_shape

    def scale(self, voxel_size):
        return Coordinate(voxel_size) * self.factor


class Predictor:
    """target = 2 * (gt > 0) - 1 (one channel); weight = mask (or 1)."""

    def __init__(self):
        self.calls = 0

    def create_target(self, gt, voxel_size):
        self.calls += 1
        return (2.0 * (np.asarray(gt) > 0) - 1.0).astype(np.float32)[np.newaxis]

    def create_weight(self, gt, target, mask, voxel_size):
        if mask is None:
            return np.ones_like(target)
        return np.broadcast_to(np.asarray(mask, np.float32), target.shape).copy()


class PaddedPredictor(Predictor):
    """Asks for ``pad`` nm of extra gt per side and records the shapes it was given."""

    def __init__(self, pad):
        super().__init__()
        self.pad = pad

    def padding(self, voxel_size):
        return Coordinate((self.pad,) * len(voxel_size))

    def create_target(self, gt, voxel_size):
        # the target of a voxel: how many gt voxels were seen along axis 0 (records the size)
        target = super().create_target(gt, voxel_size)
        target[:] = gt.shape[-1]
        return target


def task(predictor=None):
    return types.SimpleNamespace(predictor=predictor or Predictor())
