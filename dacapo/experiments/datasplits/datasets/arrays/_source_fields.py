"""Converters and validators of the array configs that combine or crop other arrays
(additions to ``_fields``; light imports only)."""

from __future__ import annotations

from typing import Any

from funlib.geometry import Coordinate, Roi

from dacapo.config import check

from ._fields import _is_int
from .array_config import ArrayConfig


def to_roi(value: Any) -> Any:
    """``Roi``, ``(offset, shape)`` or ``{"offset": ..., "shape": ...}`` -> ``Roi``; anything
    else is returned unchanged (the validator reports it)."""
    if isinstance(value, Roi) or value is None:
        return value
    try:
        if isinstance(value, dict) and set(value) == {"offset", "shape"}:
            offset, shape = value["offset"], value["shape"]
        elif not isinstance(value, (str, bytes)) and len(value) == 2:
            offset, shape = value
        else:
            return value
        offset, shape = list(offset), list(shape)
        if len(offset) != len(shape) or not all(_is_int(v) for v in offset + shape):
            return value
        return Roi(Coordinate(int(v) for v in offset), Coordinate(int(v) for v in shape))
    except (TypeError, ValueError):
        return value


is_array_config_list = check(
    lambda v: isinstance(v, list) and len(v) > 0 and all(isinstance(c, ArrayConfig) for c in v),
    "must be a non-empty list of array configs",
)

