from __future__ import annotations

import attrs
from funlib.geometry import Coordinate

from dacapo.config import ConfigError, check, help_field, positive

from .augment_config import AugmentConfig, float_pair, float_tuple, probability_field


def _coord(value):
    if isinstance(value, Coordinate):
        return value
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ConfigError(f"expected a sequence of integers, got {value!r}")
    items = list(value)
    if any(isinstance(v, bool) or not float(v).is_integer() for v in items):
        raise ConfigError(f"expected a sequence of integers, got {value!r}")
    return Coordinate(int(v) for v in items)


@attrs.frozen
class ElasticAugmentConfig(AugmentConfig):
    """Elastic deformation plus rotation of raw, gt and mask (one transformation for all arrays,
    sampled at each array's own voxel size; labels and masks with nearest-neighbour
    interpolation). Spacing and displacement are in voxels of the raw array, as in the original.
    """

    control_point_spacing: Coordinate = help_field(
        "Distance between the control points of the elastic deformation, in raw voxels per "
        "spatial dimension.",
        converter=_coord,
        validator=check(lambda v: all(s > 0 for s in v), "must be > 0 in every dimension"),
    )
    control_point_displacement_sigma: tuple[float, ...] = help_field(
        "Standard deviation of the control point displacements, in raw voxels per spatial "
        "dimension.",
        converter=float_tuple,
        validator=check(lambda v: all(s >= 0 for s in v), "must be >= 0 in every dimension"),
    )
    rotation_interval: tuple[float, float] = help_field(
        "Interval (radians) to draw the in-plane rotation angle from (rotation about the first "
        "spatial axis, i.e. in the last two dimensions). Ignored in 3D when "
        "uniform_3d_rotation is set.",
        converter=float_pair,
        validator=check(lambda v: v[0] <= v[1], "must be an interval (min <= max)"),
    )
    subsample: int = help_field(
        "Compute the transformation on a grid this many raw voxels apart and interpolate it "
        "linearly (faster; 4-8 is usually invisible).",
        default=1,
        validator=positive,
    )
    uniform_3d_rotation: bool = help_field(
        "Rotate 3D samples by a rotation drawn uniformly from SO(3) instead of in-plane.",
        default=False,
    )
    augmentation_probability: float = probability_field()

    def __attrs_post_init__(self):
        if len(self.control_point_spacing) != len(self.control_point_displacement_sigma):
            raise ConfigError(
                f"ElasticAugmentConfig: control_point_spacing={tuple(self.control_point_spacing)} "
                f"and control_point_displacement_sigma={self.control_point_displacement_sigma} "
                "must have the same number of dimensions"
            )

    def node(self, raw_key, gt_key=None, mask_key=None):
        from ..gp_nodes import ElasticAugment

        return ElasticAugment(
            raw_key,
            control_point_spacing=self.control_point_spacing,
            control_point_displacement_sigma=self.control_point_displacement_sigma,
            rotation_interval=self.rotation_interval,
            subsample=self.subsample,
            uniform_3d_rotation=self.uniform_3d_rotation,
            augmentation_probability=self.augmentation_probability,
        )
