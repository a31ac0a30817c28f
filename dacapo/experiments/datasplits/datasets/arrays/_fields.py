"""Converters and validators shared by the array, dataset and datasplit configs.

Converters normalise what they can (so that ``structure(unstructure(cfg)) == cfg`` holds exactly)
and hand anything they cannot normalise through unchanged; the field's validator then raises a
one-line ``ConfigError`` naming the config, the field and the value. Light imports only.
"""

from __future__ import annotations

from typing import Any

from funlib.geometry import Coordinate

from dacapo.config import ConfigError, check
from dacapo.utils.paths import is_local_path, is_path as _is_path_value
from dacapo.utils.paths import to_path  # noqa: F401  (the converter of every path field)


def _is_int(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    try:
        return float(v).is_integer()
    except (TypeError, ValueError):
        return False


def to_coordinate(value: Any) -> Any:
    """A sequence of integers -> ``Coordinate``; anything else is returned unchanged."""
    if isinstance(value, Coordinate) or value is None:
        return value
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        return value
    items = list(value)
    if not items or not all(_is_int(v) for v in items):
        return value
    return Coordinate(int(v) for v in items)


def to_optional_str_list(value: Any) -> Any:
    if value is None or isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        return value
    items = list(value)
    return items if all(isinstance(v, str) for v in items) else value


def to_groupings(value: Any) -> Any:
    """``[("name", [ids...]), ...]`` with str names and int ids (lists, not tuples, for ids)."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        return value
    try:
        out = []
        for group in value:
            name, ids = group
            if not isinstance(name, str) or isinstance(ids, (str, bytes)):
                return value
            ids = list(ids)
            if not all(_is_int(i) for i in ids):
                return value
            out.append((name, [int(i) for i in ids]))
        return out
    except (TypeError, ValueError):
        return value


def to_coordinate_list(value: Any) -> Any:
    if value is None or isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        return value
    items = [to_coordinate(v) for v in value]
    return items if all(isinstance(v, Coordinate) for v in items) else value


def to_list(value: Any) -> Any:
    if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__iter__"):
        return value
    return list(value)


def _valid_groupings(value: Any) -> bool:
    if not isinstance(value, list) or not value:
        return False
    names = []
    for group in value:
        if not (isinstance(group, tuple) and len(group) == 2):
            return False
        name, ids = group
        if not isinstance(name, str) or not name or not isinstance(ids, list):
            return False
        if not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            return False
        names.append(name)
    return len(set(names)) == len(names)


is_coordinate = check(lambda v: isinstance(v, Coordinate), "must be a sequence of integers")
is_positive_coordinate = check(
    lambda v: isinstance(v, Coordinate) and all(x > 0 for x in v),
    "must be a sequence of positive integers",
)
is_non_negative_coordinate = check(
    lambda v: isinstance(v, Coordinate) and all(x >= 0 for x in v),
    "must be a sequence of non-negative integers",
)
is_path = check(is_local_path, "must be a local path (a str or os.PathLike; URLs only for zarr)")
is_path_or_url = check(_is_path_value, "must be a path (a str, os.PathLike or URL)")
is_str = check(lambda v: isinstance(v, str) and len(v) > 0, "must be a non-empty string")
is_str_list = check(
    lambda v: isinstance(v, list) and all(isinstance(s, str) and s for s in v),
    "must be a list of axis names",
)
is_groupings = check(
    _valid_groupings,
    "must be a non-empty list of (name, [label ids]) pairs with unique names",
)
is_coordinate_list = check(
    lambda v: isinstance(v, list) and all(isinstance(c, Coordinate) for c in v),
    "must be a list of coordinates",
)


def required(instance: Any, attribute: Any, value: Any) -> None:
    if value is None:
        raise ConfigError(
            f"{type(instance).__name__} {getattr(instance, 'name', '?')!r}: "
            f"{attribute.name} is required"
        )


def config_error(config: Any, field: str, value: Any, problem: str) -> ConfigError:
    """A one-line ``ConfigError``: ``<Class> '<name>': <field>=<value> <problem>``."""
    return ConfigError(
        f"{type(config).__name__} {getattr(config, 'name', '?')!r}: {field}={value} {problem}"
    )


def is_instance(kind: type, what: str, optional: bool = False):
    """A validator requiring an instance of ``kind`` (None only when ``optional``)."""

    def validator(instance: Any, attribute: Any, value: Any) -> None:
        if value is None and optional:
            return
        if not isinstance(value, kind):
            raise ConfigError(
                f"{type(instance).__name__} {getattr(instance, 'name', '?')!r}: "
                f"{attribute.name}={value!r} must be {what}"
            )

    return validator

