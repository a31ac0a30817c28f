"""Affinities predictor: affinities of instance labels (+ optional local shape descriptors)."""

from __future__ import annotations

import numpy as np

from .._affinities import affinities, grow_boundary, pair_valid
from .._heads import conv_head, spatial_labels, spatial_mask
from .._lsds import local_shape_descriptors, num_lsd_channels
from .distance_predictor import balance_weights
from .predictor import Predictor


def affinity_channel_name(offset) -> str:
    return "aff_" + "_".join(str(int(o)) for o in offset)


class AffinitiesPredictor(Predictor):
    """Targets: ``affs[k, x] = 1`` iff ``x`` and ``x + neighborhood[k]`` (voxels) carry the same
    non-zero instance id of gt (also the same zero with ``background_as_object``); then, with
    ``lsds``, the local shape descriptors of the gt instances (``_lsds``, sigma =
    ``num_lsd_voxels`` voxels) as auxiliary channels. gt: instance ids ``(*spatial)`` or
    ``(1, *spatial)``. The head predicts logits; the eval activation is a sigmoid.

    Weights: per affinity channel, class-balanced (edges 1 vs 0, frequencies clipped to
    ``[affs_weight_clipmin, affs_weight_clipmax]``) over the edges whose both ends are in the
    array and valid under the mask (others weigh 0); per LSD channel, balanced between object
    and background voxels (``lsd_weight_clip*``), 0 where the mask is 0."""

    def __init__(
        self,
        neighborhood,
        lsds: bool = False,
        num_lsd_voxels: int = 10,
        downsample_lsds: int = 1,
        grow_boundary_iterations: int = 0,
        affs_weight_clipmin: float = 0.05,
        affs_weight_clipmax: float = 0.95,
        lsd_weight_clipmin: float = 0.05,
        lsd_weight_clipmax: float = 0.95,
        background_as_object: bool = False,
    ):
        self.neighborhood = [tuple(int(o) for o in n) for n in neighborhood]
        if not self.neighborhood:
            raise ValueError("AffinitiesPredictor needs a non-empty neighborhood")
        dims = {len(n) for n in self.neighborhood}
        if len(dims) != 1:
            raise ValueError(f"neighborhood offsets of different lengths: {self.neighborhood}")
        self.dims = dims.pop()
        self.lsds = bool(lsds)
        self.num_lsd_voxels = int(num_lsd_voxels)
        self.downsample_lsds = int(downsample_lsds)
        self.grow_boundary_iterations = int(grow_boundary_iterations)
        self.affs_weight_clipmin = float(affs_weight_clipmin)
        self.affs_weight_clipmax = float(affs_weight_clipmax)
        self.lsd_weight_clipmin = float(lsd_weight_clipmin)
        self.lsd_weight_clipmax = float(lsd_weight_clipmax)
        self.background_as_object = bool(background_as_object)

    @property
    def num_affinities(self) -> int:
        return len(self.neighborhood)

    @property
    def num_lsds(self) -> int:
        return num_lsd_channels(self.dims) if self.lsds else 0

    @property
    def channels(self) -> list[str]:
        affs = [affinity_channel_name(n) for n in self.neighborhood]
        return affs + [f"lsd_{i}" for i in range(self.num_lsds)]

    output_range = (0.0, 1.0)  # sigmoid / softmax in eval mode

    def create_model(self, architecture):
        import torch

        from dacapo.experiments.model import Model

        if int(architecture.dims) != self.dims:
            raise ValueError(
                f"a {self.dims}D neighborhood does not fit a {architecture.dims}D architecture"
            )
        head = conv_head(architecture, self.num_channels)
        return Model(architecture, head, eval_activation=torch.nn.Sigmoid())

    def _labels(self, gt, voxel_size) -> np.ndarray:
        labels = spatial_labels(gt, len(voxel_size))
        if self.grow_boundary_iterations:
            labels = grow_boundary(labels, self.grow_boundary_iterations)
        return labels

    def create_target(self, gt, voxel_size) -> np.ndarray:
        labels = self._labels(gt, voxel_size)
        affs, _ = affinities(labels, self.neighborhood, self.background_as_object)
        parts = [affs.astype(np.float32)]
        if self.lsds:
            parts.append(
                local_shape_descriptors(labels, self.num_lsd_voxels, self.downsample_lsds)
            )
        return np.concatenate(parts, axis=0)

    def create_weight(self, gt, target, mask, voxel_size) -> np.ndarray:
        labels = self._labels(gt, voxel_size)
        valid = spatial_mask(mask, labels.shape)
        target = np.asarray(target)
        _, inside = affinities(labels, self.neighborhood, self.background_as_object)
        both = pair_valid(valid, self.neighborhood, labels.shape)
        if both is not None:
            inside &= both
        weight = np.zeros(target.shape, dtype=np.float32)
        for k in range(self.num_affinities):
            weight[k] = balance_weights(
                target[k] > 0.5, inside[k], self.affs_weight_clipmin, self.affs_weight_clipmax
            )
        if self.lsds:
            w = balance_weights(labels != 0, valid, self.lsd_weight_clipmin, self.lsd_weight_clipmax)
            weight[self.num_affinities :] = w
        return weight
