from __future__ import annotations

import attrs

from dacapo.config import check, help_field

from ._fields import is_groupings, is_instance, to_groupings
from .array_config import ArrayConfig

_is_array_config = is_instance(ArrayConfig, "an array config")
_is_int = check(lambda v: isinstance(v, int) and not isinstance(v, bool), "must be an integer")


@attrs.frozen
class BinarizeArrayConfig(ArrayConfig):
    """Turn a label array into a uint8 array with one channel per group (axis ``"c^"`` first):
    channel i is 1 where the label is one of group i's ids. A group with an empty id list means
    "any label other than ``background``". The channel names (the group names, in order) are
    ``config.channel_names`` and ``array.attrs["channel_names"]``."""

    source_array_config: ArrayConfig = help_field(
        "The label array (no channel axis).", validator=_is_array_config
    )
    groupings: list[tuple[str, list[int]]] = help_field(
        "Channels as (name, [label ids]) pairs, e.g. [('peroxisome', [47, 48])].",
        converter=to_groupings,
        validator=is_groupings,
    )
    background: int = help_field(
        "The background label (used by groups with an empty id list).",
        default=0,
        validator=_is_int,
    )

    @property
    def channel_names(self) -> list[str]:
        return [name for name, _ in self.groupings]

    def array(self, mode: str = "r"):
        from .binarize_array import binarize_array

        return binarize_array(self, mode)

