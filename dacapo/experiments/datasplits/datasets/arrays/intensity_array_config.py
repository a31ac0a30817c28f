from __future__ import annotations

import attrs

from dacapo.config import ConfigError, check, help_field

from ._fields import is_instance
from .array_config import ArrayConfig


def _to_float(value):
    if isinstance(value, bool):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


_is_float = check(
    lambda v: isinstance(v, float) and v == v and abs(v) != float("inf"), "must be a finite number"
)
_is_array_config = is_instance(ArrayConfig, "an array config")


@attrs.frozen
class IntensitiesArrayConfig(ArrayConfig):
    """Normalise intensities: ``clip((x - min) / (max - min), 0, 1)`` as float32, lazily."""

    source_array_config: ArrayConfig = help_field(
        "The array of raw intensities.", validator=_is_array_config
    )
    min: float = help_field(
        "Intensity mapped to 0.", converter=_to_float, validator=_is_float
    )
    max: float = help_field(
        "Intensity mapped to 1.", converter=_to_float, validator=_is_float
    )

    def __attrs_post_init__(self) -> None:
        if not self.max > self.min:
            raise ConfigError(
                f"{type(self).__name__} {self.name!r}: max={self.max!r} must be > min={self.min!r}"
            )

    def array(self, mode: str = "r"):
        from .intensity_array import intensities_array

        return intensities_array(self, mode)

