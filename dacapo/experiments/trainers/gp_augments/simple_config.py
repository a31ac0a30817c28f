from __future__ import annotations

from typing import Optional

import attrs

from dacapo.config import check, help_field

from .augment_config import AugmentConfig, float_list_opt, int_list_opt, probability_field

_probs = check(lambda v: all(0.0 <= p <= 1.0 for p in v), "must be probabilities in [0, 1]")
_axes = check(lambda v: all(a >= 0 for a in v), "must be spatial axis indices >= 0")


@attrs.frozen
class SimpleAugmentConfig(AugmentConfig):
    """Random mirroring and axis transposition of all arrays (gunpowder's ``SimpleAugment``).
    Axis indices count spatial dimensions only. Transposing requires equal shapes (and voxel
    sizes) along the transposed axes."""

    mirror_only: Optional[list[int]] = help_field(
        "Only mirror these spatial axes (default: all).",
        default=None,
        converter=int_list_opt,
        validator=_axes,
    )
    transpose_only: Optional[list[int]] = help_field(
        "Only transpose these spatial axes (default: all).",
        default=None,
        converter=int_list_opt,
        validator=_axes,
    )
    mirror_probs: Optional[list[float]] = help_field(
        "Probability to mirror each spatial axis (default: 0.5 each).",
        default=None,
        converter=float_list_opt,
        validator=_probs,
    )
    transpose_probs: Optional[list[float]] = help_field(
        "Probability of each spatial axis to be swapped (default: uniform over permutations).",
        default=None,
        converter=float_list_opt,
        validator=_probs,
    )
    augmentation_probability: float = probability_field()

    def node(self, raw_key, gt_key=None, mask_key=None):
        import gunpowder as gp

        return gp.SimpleAugment(
            mirror_only=self.mirror_only,
            transpose_only=self.transpose_only,
            mirror_probs=self.mirror_probs,
            transpose_probs=self.transpose_probs,
            p=self.augmentation_probability,
        )
