from __future__ import annotations

from typing import Optional

import attrs

from dacapo.config import check, help_field

from .augment_config import AugmentConfig, opt_float, probability_field

NOISE_MODES = ("gaussian", "localvar", "poisson", "salt", "pepper", "s&p", "speckle")


@attrs.frozen
class NoiseAugmentConfig(AugmentConfig):
    """Random noise on the raw intensities (``skimage.util.random_noise`` through gunpowder's
    ``NoiseAugment``). Optional parameters left at None use skimage's defaults."""

    mode: str = help_field(
        f"Type of noise: one of {', '.join(NOISE_MODES)}.",
        default="gaussian",
        validator=check(lambda v: v in NOISE_MODES, f"must be one of {NOISE_MODES}"),
    )
    clip: bool = help_field(
        "Clip the result to the input range ([0, 1] or [-1, 1]).", default=True
    )
    mean: Optional[float] = help_field(
        "Mean of the noise ('gaussian', 'speckle').", default=None, converter=opt_float
    )
    var: Optional[float] = help_field(
        "Variance of the noise ('gaussian', 'speckle').",
        default=None,
        converter=opt_float,
        validator=check(lambda v: v >= 0, "must be >= 0"),
    )
    amount: Optional[float] = help_field(
        "Fraction of voxels replaced ('salt', 'pepper', 's&p').",
        default=None,
        converter=opt_float,
        validator=check(lambda v: 0 <= v <= 1, "must be in [0, 1]"),
    )
    salt_vs_pepper: Optional[float] = help_field(
        "Proportion of salt vs. pepper ('s&p').",
        default=None,
        converter=opt_float,
        validator=check(lambda v: 0 <= v <= 1, "must be in [0, 1]"),
    )
    augmentation_probability: float = probability_field()

    def node(self, raw_key, gt_key=None, mask_key=None):
        import gunpowder as gp

        kwargs = {
            k: getattr(self, k)
            for k in ("mean", "var", "amount", "salt_vs_pepper")
            if getattr(self, k) is not None
        }
        return gp.NoiseAugment(
            raw_key, mode=self.mode, clip=self.clip, p=self.augmentation_probability, **kwargs
        )
