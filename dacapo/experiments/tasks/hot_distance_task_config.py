"""Config of the hot-distance task: binary + distance heads per channel."""

from __future__ import annotations

from typing import Optional

import attrs

from dacapo.config import check, help_field

from .distance_task_config import DistanceTaskConfig


@attrs.frozen
class HotDistanceTaskConfig(DistanceTaskConfig):
    """As ``DistanceTaskConfig``, with one more output per channel: ``2 × len(channels)``
    outputs, first a binary ("hot") channel ``<c>`` per gt channel (BCE on logits, sigmoid in
    eval), then its distance channel ``<c>_distance`` (tanh-normalised signed distance, MSE).
    The gt has ``len(channels)`` channels. Post-processing thresholds the distance channels;
    evaluation as the distance task."""

    kernel_size: Optional[int] = help_field(
        "Kernel size of the prediction head (odd; zero-padded, so the output shape is kept); "
        "None: 1.",
        default=None,
        validator=check(
            lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1 and v % 2 == 1,
            "must be an odd positive integer",
        ),
    )

    @property
    def task_type(self):
        from .hot_distance_task import HotDistanceTask

        return HotDistanceTask

    def verify(self) -> tuple[bool, str]:
        return True, "HotDistanceTaskConfig is valid"
