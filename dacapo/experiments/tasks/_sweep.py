"""Config fields holding a post-processing sweep (biases, thresholds): non-empty lists of
distinct numbers, stored as lists of floats (configs stored before the field existed load with
the default)."""

from __future__ import annotations

import math
from typing import Sequence

from dacapo.config import ConfigError, help_field


def _floats(value):
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        return value  # the validator reports it
    values = list(value)
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return [float(v) for v in values]
    return values


def _check_sweep(instance, attribute, value):
    ok = (
        isinstance(value, list)
        and len(value) > 0
        and all(isinstance(v, float) and math.isfinite(v) for v in value)
        and len(set(value)) == len(value)
    )
    if not ok:
        raise ConfigError(
            f"{type(instance).__name__} {instance.name!r}: {attribute.name}={value!r} must be a "
            "non-empty list of distinct numbers"
        )


def sweep_field(help_text: str, default: Sequence[float]):
    return help_field(
        help_text,
        factory=lambda: [float(v) for v in default],
        converter=_floats,
        validator=_check_sweep,
    )
