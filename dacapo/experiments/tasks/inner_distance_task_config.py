"""Config of the inner-distance task: distance to the instance boundary inside each instance."""

from __future__ import annotations

import attrs

from dacapo.config import check, help_field, positive

from .distance_task_config import _channels, _float, _is_channels
from ._sweep import sweep_field
from .task_config import TaskConfig

#: targets are in [0, 1] (0 on background): thresholds from 0 (any inside) to 0.5.
INNER_THRESHOLDS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)


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
    thresholds: list[float] = sweep_field(
        "The post-processing sweep: the inner distances are thresholded at each of these values.",
        INNER_THRESHOLDS,
    )

    @property
    def task_type(self):
        from .inner_distance_task import InnerDistanceTask

        return InnerDistanceTask
