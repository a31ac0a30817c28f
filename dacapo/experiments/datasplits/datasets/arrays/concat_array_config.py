from __future__ import annotations

from typing import Optional

import attrs

from dacapo.config import ConfigError, check, help_field

from ._fields import is_instance
from .array_config import ArrayConfig


def _to_channels(value):
    if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__iter__"):
        return value
    return list(value)


def _to_dict(value):
    if isinstance(value, dict):
        return dict(value)
    if hasattr(value, "keys") and hasattr(value, "__getitem__"):
        return {k: value[k] for k in value.keys()}
    return value


_is_channels = check(
    lambda v: isinstance(v, list)
    and len(v) > 0
    and all(isinstance(c, str) and c for c in v)
    and len(set(v)) == len(v),
    "must be a non-empty list of distinct, non-empty channel names",
)
_is_sources = check(
    lambda v: isinstance(v, dict)
    and all(isinstance(k, str) and isinstance(c, ArrayConfig) for k, c in v.items()),
    "must map channel names to array configs",
)


@attrs.frozen
class ConcatArrayConfig(ArrayConfig):
    """Stack single-channel arrays into one array with a channel axis ``"c^"`` first, in the
    order of ``channels``: channel ``i`` comes from ``source_array_configs[channels[i]]`` or,
    where a channel has no source, from ``default_config`` (e.g. a ``ConstantArrayConfig``
    of zeros). Each source has no channel axis or a channel axis of size 1; all sources share
    the voxel size, and the ROI is the intersection of their ROIs. The channel names are
    ``array.attrs["channel_names"]``."""

    channels: list[str] = help_field(
        "The output channels, in order (names of the sources).",
        converter=_to_channels,
        validator=_is_channels,
    )
    source_array_configs: dict[str, ArrayConfig] = help_field(
        "A mapping from channel name to the (single-channel) array config providing it.",
        converter=_to_dict,
        validator=_is_sources,
    )
    default_config: Optional[ArrayConfig] = help_field(
        "The array used for channels without a source (None: every channel needs a source).",
        default=None,
        validator=is_instance(ArrayConfig, "an array config or None", optional=True),
    )

    def __attrs_post_init__(self) -> None:
        unknown = [k for k in self.source_array_configs if k not in self.channels]
        if unknown:
            raise ConfigError(
                f"{type(self).__name__} {self.name!r}: source_array_configs has channels "
                f"{unknown} that are not in channels={self.channels!r}"
            )
        missing = [c for c in self.channels if c not in self.source_array_configs]
        if missing and self.default_config is None:
            raise ConfigError(
                f"{type(self).__name__} {self.name!r}: channels {missing} have no source and "
                "default_config is None"
            )

    @property
    def channel_names(self) -> list[str]:
        return list(self.channels)

    def sources(self) -> list[ArrayConfig]:
        """The configs actually used, one per channel."""
        return [self.source_array_configs.get(c, self.default_config) for c in self.channels]

    def array(self, mode: str = "r"):
        from .concat_array import concat_array

        return concat_array(self, mode)

