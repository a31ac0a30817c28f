from __future__ import annotations

import attrs

from dacapo.config import check, help_field

from .augment_config import AugmentConfig, float_pair, probability_field


@attrs.frozen
class IntensityAugmentConfig(AugmentConfig):
    """Random contrast/brightness change of the raw intensities
    (``mean + (raw - mean) * scale + shift``), gunpowder's ``IntensityAugment``."""

    scale: tuple[float, float] = help_field(
        "(min, max) of the random intensity scale factor.",
        converter=float_pair,
        validator=check(lambda v: v[0] <= v[1], "must be an interval (min <= max)"),
    )
    shift: tuple[float, float] = help_field(
        "(min, max) of the random intensity shift.",
        converter=float_pair,
        validator=check(lambda v: v[0] <= v[1], "must be an interval (min <= max)"),
    )
    clip: bool = help_field(
        "Clip the result to [0, 1] (raw must then be in [0, 1]).", default=True
    )
    augmentation_probability: float = probability_field()

    def node(self, raw_key, gt_key=None, mask_key=None):
        import gunpowder as gp

        return gp.IntensityAugment(
            raw_key,
            scale_min=self.scale[0],
            scale_max=self.scale[1],
            shift_min=self.shift[0],
            shift_max=self.shift[1],
            clip=self.clip,
            p=self.augmentation_probability,
        )
