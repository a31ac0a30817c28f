"""Config of the distance task: predict a tanh-normalised signed distance per channel."""

from __future__ import annotations

import attrs

from dacapo.config import check, help_field, positive
from dacapo.compat import original_default

from ._sweep import sweep_field
from .post_processors.threshold_post_processor import DEFAULT_THRESHOLDS
from .task_config import TaskConfig


def _channels(value) -> list[str]:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        # a bare string would otherwise become a list of characters
        return value
    return list(value)


_is_channels = check(
    lambda v: isinstance(v, list)
    and len(v) > 0
    and all(isinstance(c, str) and c for c in v)
    and len(set(v)) == len(v),
    "must be a non-empty list of distinct, non-empty channel names",
)
_is_fraction = check(lambda v: 0 < v <= 1, "must be in (0, 1]")


def _float(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value  # the validator reports it
    return float(value)


def _clip_order(instance, attribute, value):
    if instance.clipmin > instance.clipmax:
        from dacapo.config import ConfigError

        raise ConfigError(
            f"{type(instance).__name__} {instance.name!r}: clipmin={instance.clipmin!r} must be "
            f"<= clipmax={instance.clipmax!r}"
        )


@attrs.frozen
class DistanceTaskConfig(TaskConfig):
    """Predict, for each channel, the signed distance (in nm, positive inside the object,
    negative outside) to the object boundary, normalised as ``tanh(distance / scale_factor)``.
    Trained with a class-balanced weighted MSE; post-processed by thresholding (a sweep of
    thresholds in tanh units); evaluated with binary segmentation metrics per channel."""

    channels: list[str] = help_field(
        "A list of channel names (one per class, in the order of the gt channels).",
        converter=_channels,
        validator=_is_channels,
    )
    clip_distance: float = help_field(
        "Maximum distance (nm) to consider for false positives/negatives: false distances are "
        "clipped to it in the *_clipped evaluation criteria.",
        converter=_float,
        validator=positive,
    )
    tol_distance: float = help_field(
        "Tolerance distance (nm) for counting false positives/negatives in the "
        "*_with_tolerance evaluation criteria.",
        converter=_float,
        validator=check(lambda v: v >= 0, "must be >= 0"),
    )
    scale_factor: float = help_field(
        "The amount (nm) by which to scale distances before applying a tanh normalization.",
        default=1.0,
        converter=_float,
        validator=positive,
    )
    mask_distances: bool = help_field(
        "Whether or not to mask out regions where the true distance to object boundary cannot "
        "be known. This is anywhere that the distance to crop boundary (or to unannotated "
        "voxels) is less than the distance to object boundary.",
        default=False,
        validator=[
            check(lambda v: isinstance(v, bool), "must be a bool"),
            original_default("DistanceTaskConfig", True, "distances are not masked near crop and unannotated borders"),
        ],
    )
    clipmin: float = help_field(
        "The minimum value for the class frequencies used to balance the weights "
        "(bounds the weight of a rare class to 1 / (2 * clipmin)).",
        default=0.05,
        converter=_float,
        validator=_is_fraction,
    )
    clipmax: float = help_field(
        "The maximum value for the class frequencies used to balance the weights "
        "(bounds the weight of a frequent class to at least 1 / (2 * clipmax)).",
        default=0.95,
        converter=_float,
        validator=[_is_fraction, _clip_order],
    )
    thresholds: list[float] = sweep_field(
        "The post-processing sweep: the distance channels are thresholded at each of these "
        "values (tanh units: 0 is the object boundary, positive values move it inward).",
        DEFAULT_THRESHOLDS,
    )

    @property
    def task_type(self):
        from .distance_task import DistanceTask

        return DistanceTask

    def verify(self) -> tuple[bool, str]:
        return True, "DistanceTaskConfig is valid"
