"""The one cattrs converter for all configs.

Unstructured configs are plain dicts (YAML/BSON friendly: lists, not tuples) that carry
``"__type__": "<ClassName>"``. Structuring looks the class up in ``dacapo.config.CONFIG_TYPES``
and checks it is a subclass of the declared type. ``structure(unstructure(cfg)) == cfg`` for every
config. Errors are ``ConfigError`` with one line naming the config, the field path and the value.
"""

from __future__ import annotations

import enum
from functools import lru_cache
from pathlib import Path, PurePath
from typing import Any, Union, get_origin

import cattrs
from cattrs.strategies import configure_union_passthrough
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn
from funlib.geometry import Coordinate, Roi

from dacapo.config import ConfigBase, ConfigError, config_class
from dacapo.utils.paths import is_path, is_remote, to_path

TYPE_KEY = "__type__"

converter = cattrs.Converter(forbid_extra_keys=True)


def _strict(kind: type, accept):
    def hook(value: Any, _: Any) -> Any:
        if not accept(value):
            raise ValueError(f"expected {kind.__name__}, got {value!r}")
        return kind(value)

    return hook


# Strict primitives: never turn ['x'] into "['x']" or 1.5 into 1.
converter.register_structure_hook(str, _strict(str, lambda v: isinstance(v, str)))
converter.register_structure_hook(bool, _strict(bool, lambda v: isinstance(v, bool)))
converter.register_structure_hook(
    int,
    _strict(int, lambda v: not isinstance(v, bool) and isinstance(v, (int, float)) and float(v).is_integer()),
)
converter.register_structure_hook(
    float, _strict(float, lambda v: not isinstance(v, bool) and isinstance(v, (int, float)))
)
configure_union_passthrough(Union[str, int, float, bool, None], converter)

# --- value types -------------------------------------------------------------------------------
converter.register_unstructure_hook(Coordinate, lambda c: [int(v) for v in c])
converter.register_structure_hook(Coordinate, lambda v, _: _coordinate(v))
converter.register_unstructure_hook(
    Roi, lambda r: {"offset": [int(v) for v in r.offset], "shape": [int(v) for v in r.shape]}
)
converter.register_structure_hook(
    Roi, lambda v, _: Roi(_coordinate(v["offset"]), _coordinate(v["shape"]))
)
converter.register_unstructure_hook_func(
    lambda t: isinstance(t, type) and issubclass(t, PurePath), str
)
converter.register_unstructure_hook_func(lambda t: isinstance(t, type) and _is_upath_type(t), str)
converter.register_structure_hook_func(
    lambda t: isinstance(t, type) and issubclass(t, PurePath), lambda v, t: _path(v, t)
)
for _declared in (Path, PurePath):  # cattrs's own hooks for these classes come before the above
    converter.register_structure_hook(_declared, lambda v, t: _path(v, t))
converter.register_unstructure_hook_func(
    lambda t: t is tuple or get_origin(t) is tuple, lambda v: [converter.unstructure(x) for x in v]
)
converter.register_unstructure_hook_func(
    lambda t: isinstance(t, type) and issubclass(t, enum.Enum), lambda e: e.value
)


def _is_upath_type(t: type) -> bool:
    return any(c.__module__.startswith("upath") for c in t.__mro__)


def _coordinate(value: Any) -> Coordinate:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ValueError(f"expected a sequence of integers, got {value!r}")
    items = list(value)
    if any(isinstance(v, bool) or not float(v).is_integer() for v in items):
        raise ValueError(f"expected integers, got {value!r}")
    return Coordinate(int(v) for v in items)


def _path(value: Any, declared: type) -> Any:
    path = to_path(value)
    if not is_path(path):
        raise ValueError(f"expected a path, got {value!r}")
    return path if declared in (PurePath, Path) or is_remote(path) else declared(path)


# --- polymorphic configs -----------------------------------------------------------------------
def _is_config(t: Any) -> bool:
    return isinstance(t, type) and issubclass(t, ConfigBase)


@lru_cache(maxsize=None)
def _unstructure_fn(cls: type):
    return make_dict_unstructure_fn(cls, converter)


@lru_cache(maxsize=None)
def _structure_fn(cls: type):
    return make_dict_structure_fn(cls, converter, _cattrs_forbid_extra_keys=True)


def _unstructure_config(obj: ConfigBase) -> dict:
    return {TYPE_KEY: type(obj).__name__, **_unstructure_fn(type(obj))(obj)}


def _structure_config(value: Any, declared: type) -> ConfigBase:
    if isinstance(value, ConfigBase):
        if not isinstance(value, declared):
            raise TypeError(f"expected a {declared.__name__}, got a {type(value).__name__}")
        return value
    if not isinstance(value, dict):
        raise ValueError(f"expected a {declared.__name__} mapping, got {value!r}")
    data = dict(value)
    type_name = data.pop(TYPE_KEY, None)
    cls = config_class(type_name) if type_name is not None else declared
    if not issubclass(cls, declared):
        raise TypeError(f"{type_name} is not a {declared.__name__}")
    from dacapo.compat import stored_fields

    token = stored_fields.set(frozenset(data))  # no changed-default warning for named fields
    try:
        return _structure_fn(cls)(data, cls)
    finally:
        stored_fields.reset(token)


converter.register_unstructure_hook_func(_is_config, _unstructure_config)
converter.register_structure_hook_func(_is_config, _structure_config)


# --- public helpers ----------------------------------------------------------------------------
def unstructure(config: Any) -> Any:
    return converter.unstructure(config)


def structure(data: Any, declared: type = ConfigBase) -> Any:
    """Structure ``data`` as ``declared``; raise a one-line ``ConfigError`` on any problem."""
    try:
        return converter.structure(data, declared)
    except ConfigError:
        raise
    except Exception as exc:  # cattrs groups many errors; flatten them into one line
        own = _first_config_error(exc)
        if own is not None:  # a validator's message already names config, field and value
            raise own from exc
        name = data.get("name", "?") if isinstance(data, dict) else "?"
        kind = data.get(TYPE_KEY, declared.__name__) if isinstance(data, dict) else declared.__name__
        raise ConfigError(f"{kind} {name!r}: {_describe(exc, data)}") from exc


def _first_config_error(exc: BaseException):
    if isinstance(exc, ConfigError):
        return exc
    for inner in getattr(exc, "exceptions", ()):
        found = _first_config_error(inner)
        if found is not None:
            return found
    return None


def _describe(exc: Exception, data: Any) -> str:
    if isinstance(exc, (cattrs.BaseValidationError,)):
        messages = cattrs.transform_error(exc, path="$", format_exception=_format_exception)
        return "; ".join(_with_value(m, data) for m in messages)
    return f"{type(exc).__name__}: {exc}"


def _format_exception(exc: BaseException, type_: Any) -> str:
    if isinstance(exc, KeyError):
        return "required field missing"
    if isinstance(exc, cattrs.ForbiddenExtraKeysError):
        return f"unknown field(s) {sorted(exc.extra_fields)}"
    name = getattr(type_, "__name__", str(type_))
    return f"invalid value (expected {name}: {exc})" if type_ is not None else str(exc)


def _with_value(message: str, data: Any) -> str:
    """Append the offending value where the cattrs path points at one."""
    if " @ $" not in message or message.endswith(" @ $") or "required field missing" in message:
        return message
    path = message.rsplit(" @ $", 1)[1]
    value = _lookup(data, path)
    return message if value is _MISSING else f"{message} (got {value!r})"


_MISSING = object()


def _lookup(data: Any, path: str) -> Any:
    import re

    for key, index in re.findall(r"\.([^.\[]+)|\[(\d+)\]", path):
        try:
            data = data[key] if key else data[int(index)]
        except (KeyError, IndexError, TypeError):
            return _MISSING
    return data


from dacapo.compat import removed_names  # noqa: E402

__getattr__ = removed_names(__name__)  # the names of dacapo-ml 0.3.5 that are gone
