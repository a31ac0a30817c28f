"""Base of every DaCapo config: an immutable attrs class registered by class name.

Every concrete config class subclasses ``ConfigBase`` (through its family base such as
``ArrayConfig`` or ``TaskConfig``). Subclassing registers the class under its name in
``CONFIG_TYPES``; the converter (``dacapo.store.converter``) uses that registry to turn the
``"__type__"`` key of a stored document back into the class, without ``eval``.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Iterator

import attrs

CONFIG_TYPES: dict[str, type] = {}

_NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-+=@]*")  # fullmatch: "$" allows a final "\n"


class ConfigError(ValueError):
    """A config (or a value inside one) is invalid. The message is one line naming the config,
    the field and the value."""


def help_field(help_text: str, **kwargs: Any) -> Any:
    """An attrs field carrying ``metadata["help_text"]`` (used by the CLI and the docs)."""
    metadata = dict(kwargs.pop("metadata", {}) or {})
    metadata["help_text"] = help_text
    return attrs.field(metadata=metadata, **kwargs)


def validate_name(name: Any, what: str = "config") -> str:
    """Names become file and directory names: refuse separators, ``..``, empties and odd characters."""
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name) or ".." in name or len(name) > 255:
        raise ConfigError(
            f"{what} name {name!r} is invalid: use letters, digits and _ . - + = @ "
            "(no path separators, no '..', at most 255 characters)"
        )
    return name


class ConfigBase:
    """Marker base of all configs. Registers each subclass by its class name. A family base
    (``ArrayConfig``, ``TaskConfig``…) sets ``_abstract = True`` in its own body."""

    _abstract: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # attrs re-creates slotted classes; the second registration of the same qualname is fine.
        previous = CONFIG_TYPES.get(cls.__name__)
        if previous is not None and previous.__qualname__ == cls.__qualname__ and (
            previous.__module__ == cls.__module__
        ):
            CONFIG_TYPES[cls.__name__] = cls
            return
        if previous is not None:
            raise TypeError(
                f"config class name {cls.__name__} is registered twice "
                f"({previous.__module__} and {cls.__module__})"
            )
        CONFIG_TYPES[cls.__name__] = cls

    def verify(self) -> tuple[bool, str]:
        """Check what can be checked without training. Returns ``(ok, message)``."""
        return True, "No validation for this config"

    def kind_required(self, what: str) -> Exception:
        """What a family base raises where one of its kinds is needed (a stored document may
        name the base itself); a kind that lacks ``what`` is a programming error."""
        cls = type(self)
        if not is_abstract(cls):
            return NotImplementedError(f"{cls.__name__}.{what}")
        kinds = sorted(n for n, c in CONFIG_TYPES.items() if issubclass(c, cls) and not is_abstract(c))
        return ConfigError(
            f"{cls.__name__} {getattr(self, 'name', '?')!r}: a base class has no {what}; "
            f"use one of its kinds (e.g. {', '.join(kinds[:3]) or 'none registered'})"
        )


def is_abstract(cls: type) -> bool:
    """Whether ``cls`` is a family base (declared ``_abstract`` itself), not a usable config."""
    return bool(cls.__dict__.get("_abstract", False))


def config_class(name: str) -> type:
    """The registered config class called ``name``; imports every config family first."""
    import_config_families()
    try:
        return CONFIG_TYPES[name]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(name, CONFIG_TYPES, n=1)
        hint = (
            f"did you mean {close[0]!r}?"
            if close
            else f"known types: {', '.join(sorted(CONFIG_TYPES))}"
        )
        raise ConfigError(f"unknown config type {name!r}; {hint}") from None


_FAMILIES_IMPORTED = False


def import_config_families() -> None:
    """Import the packages that define config classes so that all of them are registered."""
    global _FAMILIES_IMPORTED
    if _FAMILIES_IMPORTED:
        return
    import importlib

    for module in (
        "dacapo.experiments.datasplits.datasets.arrays",
        "dacapo.experiments.datasplits.datasets",
        "dacapo.experiments.datasplits",
        "dacapo.experiments.tasks",
        "dacapo.experiments.architectures",
        "dacapo.experiments.trainers",
        "dacapo.experiments.trainers.gp_augments",
        "dacapo.experiments.starts",
        "dacapo.experiments.run_config",
    ):
        importlib.import_module(module)
    _FAMILIES_IMPORTED = True


def nested_configs(value: Any) -> Iterator[Any]:
    """Every attrs instance in a config tree (``value`` itself, its fields, lists and tuples of
    them, recursively), each once, depth first in field order."""
    seen: set[int] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        if attrs.has(type(item)):
            yield item
            children = [getattr(item, field.name) for field in attrs.fields(type(item))]
        elif isinstance(item, (list, tuple)):
            children = list(item)
        else:
            continue
        stack.extend(reversed(children))


def check(predicate, requirement: str):
    """An attrs validator raising a one-line ``ConfigError`` naming config, field and value.
    ``None`` values pass (optional fields)."""

    def validator(instance: Any, attribute: Any, value: Any) -> None:
        if value is None:
            return
        try:
            ok = predicate(value)
        except Exception:
            ok = False
        if not ok:
            raise ConfigError(
                f"{type(instance).__name__} {getattr(instance, 'name', '?')!r}: "
                f"{attribute.name}={value!r} {requirement}"
            )

    return validator


positive = check(lambda v: v > 0, "must be > 0")
non_negative = check(lambda v: v >= 0, "must be >= 0")
