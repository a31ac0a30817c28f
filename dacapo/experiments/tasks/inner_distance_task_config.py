"""Config of the inner-distance task: distance to the instance boundary inside each instance."""

from __future__ import annotations

import attrs

from dacapo.config import check, help_field, positive

from .distance_task_config import _channels, _float, _is_channels
from .task_config import TaskConfig


@attrs.frozen
class InnerDistanceTaskConfig(TaskConfig):
    """Predict, per channel, ``tanh(d / scale_factor)`` with ``d`` (nm) the distance from each
    voxel of an instance to the boundary of that instance (touching instances are separated;
    0 on background). gt: instance ids per channel. Weighted MSE; threshold sweep (0 ... 0.5);
    binary segmentation metrics of ``prediction > threshold`` against ``gt != 0``."""

    channels: list[str] = help_field(
        "A list of channel names (one per gt channel).", converter=_channels,
        validator=_is_channels,
    )
    clip_distance: float = help_field(
        "Distances (nm) are clipped to it in the *_clipped criteria.", converter=_float,
        validator=positive,
    )
    tol_distance: float = help_field(
        "Tolerance (nm) of the *_with_tolerance criteria.", converter=_float,
        validator=check(lambda v: v >= 0, "must be >= 0"),
    )
    scale_factor: float = help_field(
        "Distances (nm) are divided by it before the tanh.", default=1.0, converter=_float,
        validator=positive,
    )

    @property
    def task_type(self):
        from .inner_distance_task import InnerDistanceTask

        return InnerDistanceTask
