"""Config of the one-hot task: one channel per class, softmax, cross-entropy, argmax."""

from __future__ import annotations

from typing import Optional

import attrs

from dacapo.config import check, help_field

from .distance_task_config import _channels
from .task_config import TaskConfig

_is_classes = check(
    lambda v: isinstance(v, list)
    and len(v) > 1
    and all(isinstance(c, str) and c for c in v)
    and len(set(v)) == len(v),
    "must be a list of at least two distinct, non-empty class names",
)
_is_kernel = check(
    lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0 and v % 2 == 1,
    "must be a positive odd int (or None for 1)",
)


@attrs.frozen
class OneHotTaskConfig(TaskConfig):
    """Classify every voxel into one of ``classes``: a softmax head trained with a class-balanced,
    masked cross-entropy; post-processed by argmax (no sweep); evaluated with binary segmentation
    metrics per class (criteria ``<class>__dice``, ...).

    The gt is the class of each voxel: an integer array whose values index ``classes``
    (0 .. n-1), or one binary channel per class in the order of ``classes`` (e.g. a
    ``BinarizeArrayConfig`` with one grouping per class; the class is the set channel). For
    ``classes=["background", "cell"]`` a single binary channel (0/1) works as it is. Voxels of
    unknown class (values >= n, or no channel set) are ignored."""

    classes: list[str] = help_field(
        "The class names (output channels), in the order of the gt class indices.",
        converter=_channels,
        validator=_is_classes,
    )
    kernel_size: Optional[int] = help_field(
        "Kernel size of the head convolution (odd); None: 1.",
        default=None,
        validator=_is_kernel,
    )

    @property
    def task_type(self):
        from .one_hot_task import OneHotTask

        return OneHotTask

    def verify(self) -> tuple[bool, str]:
        return True, "OneHotTaskConfig is valid"
