"""Signed-distance predictor: targets ``tanh(d / scale_factor)``, class-balanced weights and
masking of distances that the crop cannot determine.

Target semantics (differs slightly from the original, which measured to the half-voxel
boundary on a 2x upsampled grid with scipy): ``d`` is the Euclidean distance in world units
(nm, anisotropic voxel size) from a voxel centre to the centre of the nearest voxel of the other
class in the same channel, positive inside the object (gt != 0) and negative outside. Voxels next
to the boundary are thus at ``±voxel_size`` (along that axis). A channel with no boundary in view
(empty or full) has ``d = ∓inf`` everywhere, i.e. a target of exactly -1 (empty) or +1 (full): the
saturated value, consistent with voxels far from any boundary. Computed with the ``edt``
package in one multi-label pass per channel (exact, no upsampling).
"""

from __future__ import annotations

import math

import numpy as np

from .._distances import distance_to_border, distance_to_zero, unsigned_boundary_distance
from .predictor import Predictor


class DistancePredictor(Predictor):
    """Predicts, per channel, the tanh-normalised signed distance to the object boundary.

    Args:
        channels: names of the output channels (one per gt channel).
        scale_factor: distances (nm) are divided by it before the tanh.
        mask_distances: zero the weight where the crop cannot determine the target (see
            ``create_weight``).
        clipmin, clipmax: class frequencies are clipped to ``[clipmin, clipmax]`` before
            balancing (as the original ``balance_weights``).
        num_threads: threads for each distance transform (``edt``'s ``parallel``); 1 suits the
            data-loading workers on small machines.
    """

    #: A voxel whose distance the crop cannot determine is still trained on when its true target
    #: is known to be saturated: ``|tanh(d / scale_factor)| >= saturation`` (the original's
    #: ``threshold = 0.8``). There the target is off by at most ``1 - saturation`` and has the
    #: right sign, far from the thresholds used in post-processing.
    saturation: float = 0.8
    #: Slack (target units) for float rounding when comparing distances in tanh space.
    _rounding = 1e-6

    def __init__(
        self,
        channels,
        scale_factor: float = 1.0,
        mask_distances: bool = False,
        clipmin: float = 0.05,
        clipmax: float = 0.95,
        num_threads: int = 1,
    ):
        self._channels = [str(c) for c in channels]
        if not self._channels:
            raise ValueError("DistancePredictor needs at least one channel")
        if not scale_factor > 0:
            raise ValueError(f"scale_factor must be > 0, got {scale_factor!r}")
        if not 0 < clipmin <= clipmax <= 1:
            raise ValueError(f"need 0 < clipmin <= clipmax <= 1, got {clipmin!r}, {clipmax!r}")
        self.scale_factor = float(scale_factor)
        self.mask_distances = bool(mask_distances)
        self.clipmin = float(clipmin)
        self.clipmax = float(clipmax)
        self.num_threads = int(num_threads)

    # --- model ---------------------------------------------------------------------------------
    @property
    def channels(self) -> list[str]:
        return list(self._channels)

    def create_model(self, architecture):
        """The architecture followed by a 1x1(x1) convolution to ``len(channels)`` channels.

        No activation, neither in training nor in eval (``eval_activation=None``), as in the
        original: the head is linear and learns the targets ``tanh(d / scale_factor)`` in
        [-1, 1] under MSE; its raw output is thresholded (``ThresholdPostProcessor``), and a
        tanh head would only slow learning near the saturated values."""
        import torch

        from dacapo.experiments.model import Model

        convs = {1: torch.nn.Conv1d, 2: torch.nn.Conv2d, 3: torch.nn.Conv3d}
        dims = int(architecture.dims)
        if dims not in convs:
            raise ValueError(f"DistancePredictor supports 1 to 3 spatial dims, not {dims}")
        head = convs[dims](architecture.num_out_channels, self.num_channels, kernel_size=1)
        return Model(architecture, head, eval_activation=None)

    def padding(self, gt_voxel_size):
        """Context (world units, per side, a multiple of the voxel size) to add around the output
        ROI when fetching gt (and mask) so that no voxel of the output ROI is masked by
        ``mask_distances`` because of the crop border: beyond ``scale_factor * atanh(saturation)``
        every target is determined well enough. Zero without ``mask_distances``. A caller that
        uses it computes target and weight on the padded gt and crops both to the output ROI."""
        from funlib.geometry import Coordinate

        if not self.mask_distances:
            return Coordinate((0,) * len(gt_voxel_size))
        reach = self.scale_factor * math.atanh(self.saturation)
        return Coordinate(int(math.ceil(reach / v)) * int(v) for v in gt_voxel_size)

    # --- targets -------------------------------------------------------------------------------
    def _as_channels(self, array: np.ndarray, voxel_size, what: str) -> np.ndarray:
        array = np.asarray(array)
        dims = len(voxel_size)
        if array.ndim == dims and self.num_channels == 1:
            array = array[np.newaxis]
        if array.ndim != dims + 1 or array.shape[0] != self.num_channels:
            raise ValueError(
                f"{what} of shape {array.shape} does not match {self.num_channels} channel(s) "
                f"{self._channels} and a {dims}D voxel size {tuple(voxel_size)}: expected "
                f"(channels, *spatial)"
            )
        return array

    def signed_distances(self, gt: np.ndarray, voxel_size) -> np.ndarray:
        """float32 ``(C, *spatial)``: distance (nm) to the nearest voxel of the other class,
        positive inside (gt != 0), negative outside, ``±inf`` in channels with no boundary."""
        gt = self._as_channels(gt, voxel_size, "gt")
        out = np.empty(gt.shape, dtype=np.float32)
        for c in range(gt.shape[0]):
            fg = gt[c] != 0
            d = unsigned_boundary_distance(fg, voxel_size, parallel=self.num_threads)
            np.negative(d, out=d, where=~fg)
            out[c] = d
        return out

    def create_target(self, gt: np.ndarray, voxel_size) -> np.ndarray:
        """float32 ``(C, *spatial)``: ``tanh(signed_distance / scale_factor)`` in [-1, 1]."""
        d = self.signed_distances(gt, voxel_size)
        d /= np.float32(self.scale_factor)
        return np.tanh(d, out=d)

    # --- weights -------------------------------------------------------------------------------
    def _channel_masks(self, mask, shape, voxel_size) -> list:
        """One bool array per channel, or None where the channel is entirely valid."""
        if mask is None:
            return [None] * shape[0]
        mask = np.asarray(mask)
        dims = len(voxel_size)
        if mask.ndim == dims:
            mask = mask[np.newaxis]
        if mask.ndim != dims + 1 or mask.shape[1:] != tuple(shape[1:]) or mask.shape[0] not in (
            1,
            shape[0],
        ):
            raise ValueError(
                f"mask of shape {mask.shape} does not match target of shape {tuple(shape)}"
            )
        masks = []
        for c in range(shape[0]):
            m = mask[c if mask.shape[0] > 1 else 0] != 0
            masks.append(None if m.all() else m)
        return masks

    def create_weight(
        self, gt: np.ndarray, target: np.ndarray, mask: np.ndarray | None, voxel_size
    ) -> np.ndarray:
        """float32 ``(C, *spatial)``, per channel:

        1. class balance (the original ``balance_weights`` with two classes): within the valid
           voxels, with foreground frequency ``f`` clipped to ``[clipmin, clipmax]``,
           foreground voxels weigh ``1 / (2 f)`` and background voxels ``1 / (2 (1 - f))``
           (both 1 when balanced). Channels with no valid voxel weigh 0;
        2. zero where ``mask == 0``;
        3. with ``mask_distances``: zero where the crop cannot determine the target. Let ``b`` be
           the distance from the voxel to the nearest voxel that is unknown (``mask == 0``, or
           just outside the crop) and ``d`` the distance to the nearest *known* voxel of the
           other class. A boundary hidden in the unknown region is at least ``b`` away, so the
           target is exact iff ``d <= b``. Otherwise the voxel is kept only when
           ``tanh(b / scale_factor) >= saturation`` (its true target is saturated anyway).
           Channels with no boundary in view are thus masked except at least
           ``scale_factor * atanh(saturation)`` from the unknown region (see ``padding``).
        """
        gt = self._as_channels(gt, voxel_size, "gt")
        target = np.asarray(target)
        if target.shape != gt.shape:
            raise ValueError(f"target shape {target.shape} differs from gt shape {gt.shape}")
        masks = self._channel_masks(mask, gt.shape, voxel_size)
        weight = np.empty(gt.shape, dtype=np.float32)
        for c in range(gt.shape[0]):
            fg = gt[c] != 0
            known = masks[c]
            weight[c] = balance_weights(fg, known, self.clipmin, self.clipmax)
            if self.mask_distances and (known is None or known.any()):
                weight[c] *= self._determined(fg, known, target[c], voxel_size)
        return weight

    def _determined(self, fg, known, target_c, voxel_size) -> np.ndarray:
        """bool: where the target of this channel is determined by the crop (or saturated)."""
        s = np.float32(self.scale_factor)
        # t_known: tanh(d / s), d the distance to the nearest *known* voxel of the other class.
        # The target already is tanh(distance to the nearest voxel of the other class); the two
        # differ only where unknown voxels are labelled with the other class.
        t_known = np.abs(target_c)
        if known is None:
            b = distance_to_border(fg.shape, voxel_size)
        else:
            b = distance_to_zero(known, voxel_size, black_border=True, parallel=self.num_threads)
            unknown = ~known
            for inside, others in ((fg, ~fg), (~fg, fg)):
                if np.any(others & unknown):  # some unknown voxels carry the other label
                    d = distance_to_zero(inside | unknown, voxel_size, parallel=self.num_threads)
                    d /= s
                    t_known[inside] = np.tanh(d[inside])
        t_border = np.tanh(b / s)
        return (t_known <= t_border + self._rounding) | (t_border >= self.saturation)


def balance_weights(
    fg: np.ndarray, valid: np.ndarray | None, clipmin: float = 0.05, clipmax: float = 0.95
) -> np.ndarray:
    """Two-class balancing of one channel (float32, same shape as ``fg``): within the valid
    voxels (all if ``valid`` is None) the frequency ``f`` of each class, clipped to
    ``[clipmin, clipmax]``, gives its voxels the weight ``1 / (2 f)``; invalid voxels weigh 0."""
    if valid is None:
        n = fg.size
        n_fg = int(np.count_nonzero(fg))
    else:
        n = int(np.count_nonzero(valid))
        n_fg = int(np.count_nonzero(fg & valid))
    if n == 0:
        return np.zeros(fg.shape, dtype=np.float32)
    f_fg = min(max(n_fg / n, clipmin), clipmax)
    f_bg = min(max((n - n_fg) / n, clipmin), clipmax)
    weight = np.where(fg, np.float32(0.5 / f_fg), np.float32(0.5 / f_bg)).astype(np.float32)
    if valid is not None:
        weight[~valid] = 0
    return weight
