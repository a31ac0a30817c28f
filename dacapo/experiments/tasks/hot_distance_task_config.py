"""Config of the hot-distance task: binary + distance heads per channel."""

from __future__ import annotations

import attrs

from .distance_task_config import DistanceTaskConfig


@attrs.frozen
class HotDistanceTaskConfig(DistanceTaskConfig):
    """As ``DistanceTaskConfig``, with one more output per channel: ``2 × len(channels)``
    outputs, first a binary ("hot") channel ``<c>`` per gt channel (BCE on logits, sigmoid in
    eval), then its distance channel ``<c>_distance`` (tanh-normalised signed distance, MSE).
    The gt has ``len(channels)`` channels. Post-processing thresholds the distance channels;
    evaluation as the distance task."""

    @property
    def task_type(self):
        from .hot_distance_task import HotDistanceTask

        return HotDistanceTask

    def verify(self) -> tuple[bool, str]:
        return True, "HotDistanceTaskConfig is valid"
