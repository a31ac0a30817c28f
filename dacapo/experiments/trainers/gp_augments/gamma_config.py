from __future__ import annotations

import attrs

from dacapo.config import check, help_field

from .augment_config import AugmentConfig, float_pair


@attrs.frozen
class GammaAugmentConfig(AugmentConfig):
    """Random gamma correction of the raw intensities: ``raw ** gamma`` with gamma drawn from
    ``gamma_range`` (values below and above 1 equally likely when the range spans 1). Raw outside
    [0, 1] is min/max-normalised first and mapped back afterwards."""

    gamma_range: tuple[float, float] = help_field(
        "(min, max) of the gamma exponent, both > 0.",
        converter=float_pair,
        validator=check(lambda v: 0 < v[0] <= v[1], "must satisfy 0 < min <= max"),
    )

    def node(self, raw_key, gt_key=None, mask_key=None):
        from ..gp_nodes import GammaAugment

        return GammaAugment(raw_key, gamma_min=self.gamma_range[0], gamma_max=self.gamma_range[1])
