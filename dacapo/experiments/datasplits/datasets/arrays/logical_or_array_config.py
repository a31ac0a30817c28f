from __future__ import annotations

import attrs

from dacapo.config import help_field

from ._fields import is_instance
from .array_config import ArrayConfig


@attrs.frozen
class LogicalOrArrayConfig(ArrayConfig):
    """The logical or over the channels of an array: uint8, 1 where any channel is non-zero,
    without a channel axis (an array without channels gives ``source != 0``). E.g. the union
    of the per-class masks of a ``ConcatArrayConfig``."""

    source_array_config: ArrayConfig = help_field(
        "The (multi-channel) array to reduce.",
        validator=is_instance(ArrayConfig, "an array config"),
    )

    def array(self, mode: str = "r"):
        from .logical_or_array import logical_or_array

        return logical_or_array(self, mode)

