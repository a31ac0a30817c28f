from __future__ import annotations

import attrs

from dacapo.config import help_field

from .augment_config import AugmentConfig, to_float


@attrs.frozen
class IntensityScaleShiftAugmentConfig(AugmentConfig):
    """Deterministic affine intensity map ``raw * scale + shift`` (e.g. [0, 1] → [-1, 1] with
    scale=2, shift=-1), gunpowder's ``IntensityScaleShift``."""

    scale: float = help_field("Multiply raw by this factor.", converter=to_float)
    shift: float = help_field("Then add this value.", converter=to_float)

    def node(self, raw_key, gt_key=None, mask_key=None):
        import gunpowder as gp

        return gp.IntensityScaleShift(raw_key, self.scale, self.shift)

    def inference_transform(self, raw):
        return raw * self.scale + self.shift
