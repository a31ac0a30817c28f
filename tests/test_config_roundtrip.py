"""Property test: every registered config class survives the converter, YAML, JSON and the file
config store unchanged. Strategies are derived from the attrs field types, so new config classes
are covered as soon as ``dacapo.config.import_config_families()`` registers them.

Drawn configs whose construction raises ``ConfigError`` are drawn again; any other exception is a
failure (validators must raise ``ConfigError``, see docs/design.md). A class or field whose valid
values are rare can be given a strategy in ``CLASS_STRATEGIES`` / ``FIELD_STRATEGIES``, or a list
of candidates in ``SEARCH_FIELDS`` below. Fields whose attrs validator is an
``attrs.validators.in_`` draw from its options. ``DACAPO_ROUNDTRIP_EXAMPLES`` sets the number of
examples per class (default 20; raise it for a deeper run)."""

from __future__ import annotations

import collections.abc
import enum
import functools
import inspect
import json
import os
import tempfile
import types
import typing
from pathlib import Path, PurePath
from unittest import mock

import attrs
import pytest
from funlib.geometry import Coordinate, Roi
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dacapo.config import CONFIG_TYPES, ConfigBase, ConfigError, import_config_families
from dacapo.store.config_store import KINDS, kind_class
from dacapo.store.converter import structure, unstructure
from dacapo.store.file_config_store import FileConfigStore, dump_yaml, load_yaml

FAMILY_BASES = {
    "ArrayConfig", "DatasetConfig", "DataSplitConfig", "TaskConfig", "ArchitectureConfig",
    "TrainerConfig", "AugmentConfig",
}

# Escape hatches: {"ClassName": strategy} and {("ClassName", "field"): strategy}.
CLASS_STRATEGIES: dict[str, st.SearchStrategy] = {
    # its channels and the keys of its sources must agree (see concat_array_configs below)
    "ConcatArrayConfig": st.deferred(lambda: concat_array_configs()),
}
FIELD_STRATEGIES: dict[tuple[str, str], st.SearchStrategy] = {
    # an import path 'package.module:ClassName' (imported only when the architecture is built)
    ("TorchModuleArchitectureConfig", "module"): st.from_regex(
        r"[a-z_][a-z0-9_]{0,8}(\.[a-z_][a-z0-9_]{0,8}){0,2}:[A-Z][A-Za-z0-9_]{0,10}", fullmatch=True
    ),
}
# Fields whose valid values are rare: {("ClassName", "field"): dims -> candidate values}. While the
# ConfigError of a drawn config names "<field>=", the candidates are tried in turn (from a drawn
# start).
SEARCH_FIELDS: dict[tuple[str, str], typing.Callable[[int], typing.Iterable]] = {
    ("CNNectomeUNetConfig", "input_shape"): lambda dims: [Coordinate((s,) * dims) for s in range(8, 400)],
}
SEARCH_LIMIT = 60
SEARCHED_CLASSES = {name for name, _ in SEARCH_FIELDS}

import_config_families()


def _is_concrete(cls: type) -> bool:
    return cls.__name__ not in FAMILY_BASES and not inspect.isabstract(cls) and attrs.has(cls)


CONCRETE = sorted((c for c in CONFIG_TYPES.values() if _is_concrete(c)), key=lambda c: c.__name__)


def implementations(declared: type) -> list[type]:
    """Registered concrete configs usable where ``declared`` is expected (the family base itself
    when no concrete member is registered yet)."""
    found = [c for c in CONFIG_TYPES.values() if issubclass(c, declared) and _is_concrete(c)]
    if not found and attrs.has(declared) and not inspect.isabstract(declared):
        found = [declared]
    return sorted(found, key=lambda c: c.__name__)


# --- value strategies --------------------------------------------------------------------------
NAMES = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,20}", fullmatch=True).filter(lambda s: ".." not in s)
TRICKY = st.sampled_from(
    ["null", "None", "yes", "no", "on", "~", "1e3", "0x1F", "1_000", "true", ".inf", "- x", ": y",
     "#z", "'q'", '"', "", " lead", "trail ", "a\nb", "tab\tx", "ünï", "12:30", "[1]", "{a: 1}", "&a", "*a"]
)
TEXTS = st.one_of(TRICKY, NAMES, st.text(max_size=20))
INTS = st.one_of(st.integers(1, 64), st.integers(-(2**40), 2**40))
FLOATS = st.one_of(st.floats(0, 1), st.floats(allow_nan=False, allow_infinity=False))
DIMS = st.shared(st.sampled_from([2, 3]), key="dims")  # one dimensionality per example
MAX_DEPTH = 2  # from this nesting depth on, configs that nest no others are preferred


def coordinates(values: st.SearchStrategy) -> st.SearchStrategy:
    return DIMS.flatmap(lambda n: st.lists(values, min_size=n, max_size=n)).map(Coordinate)


def coordinates_for(field: str) -> st.SearchStrategy:
    """Plausible values by field name: factors are small, kernels odd, the rest sizes."""
    if "factor" in field:
        return coordinates(st.integers(1, 3))
    if "kernel" in field:
        return coordinates(st.sampled_from([1, 3, 5]))
    return coordinates(st.integers(1, 64))


def paths(cls: type) -> st.SearchStrategy:
    return st.builds(
        lambda parts, absolute: cls(("/" if absolute else "") + "/".join(parts)),
        st.lists(NAMES, min_size=1, max_size=3),
        st.booleans(),
    )


def is_name_field(name: str) -> bool:
    return name == "name" or name.endswith("_name") or name == "run"


_SEQUENCES = (list, typing.List, collections.abc.Sequence, collections.abc.MutableSequence)
_MAPPINGS = (dict, typing.Dict, collections.abc.Mapping, collections.abc.MutableMapping)


def strategy_for(tp: typing.Any, owner: str, field: str, depth: int = 0) -> st.SearchStrategy:
    def inner(t: typing.Any) -> st.SearchStrategy:
        return strategy_for(t, owner, field, depth)

    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is typing.Any:
        return st.one_of(st.none(), st.booleans(), INTS, TEXTS)
    if tp is type(None):
        return st.none()
    if origin in (typing.Union, types.UnionType):
        return st.one_of([inner(a) for a in args])
    if origin is typing.Literal:
        return st.sampled_from(args)
    tame = depth > 0  # nested configs only need to be valid: plain values
    if origin in _SEQUENCES:
        return st.lists(inner(args[0] if args else typing.Any), min_size=int(tame), max_size=3 - tame)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return st.lists(inner(args[0]), max_size=3).map(tuple)
        return st.tuples(*(inner(a) for a in args))
    if origin in _MAPPINGS:
        key, value = args or (str, typing.Any)
        return st.dictionaries(NAMES if key is str else inner(key), inner(value), max_size=3)
    if not isinstance(tp, type):
        return st.from_type(tp)
    if issubclass(tp, ConfigBase):
        choices = implementations(tp)
        if not choices:
            raise TypeError(f"{owner}.{field}: no registered config class implements {tp.__name__}")
        if depth + 1 >= MAX_DEPTH:
            choices = [c for c in choices if not nests_configs(c)] or choices
        # nested, prefer classes that are cheap to generate (they are covered at the top level)
        choices = [c for c in choices if c.__name__ not in SEARCHED_CLASSES] or choices
        return st.one_of([config_strategy(c, depth + 1) for c in choices])
    if tp is bool:
        return st.booleans()
    if tp is int:
        return st.integers(1, 64) if tame else INTS
    if tp is float:
        return st.floats(0.01, 1) if tame else st.one_of(FLOATS, INTS.map(float))
    if tp is str:
        return NAMES if tame or is_name_field(field) else TEXTS
    if issubclass(tp, Coordinate):
        return coordinates_for(field)
    if issubclass(tp, Roi):
        return st.builds(Roi, coordinates(st.integers(-1000, 1000)), coordinates(st.integers(1, 1000)))
    if issubclass(tp, PurePath):
        return paths(Path if tp in (PurePath, Path) else tp)
    if issubclass(tp, enum.Enum):
        return st.sampled_from(list(tp))
    return st.from_type(tp)


def _options(validator: typing.Any) -> typing.Optional[list]:
    """The allowed values of an ``attrs.validators.in_`` (possibly inside ``and_``)."""
    if validator is None:
        return None
    if hasattr(validator, "options"):
        return list(validator.options)
    for inner in getattr(validator, "_validators", ()):
        found = _options(inner)
        if found is not None:
            return found
    return None


def field_strategy(cls: type, field: attrs.Attribute, hint: typing.Any, depth: int) -> st.SearchStrategy:
    custom = FIELD_STRATEGIES.get((cls.__name__, field.name))
    if custom is not None:
        return custom
    options = _options(field.validator)
    if options is not None:
        return st.sampled_from(options)
    return strategy_for(hint, cls.__name__, field.name, depth)


@functools.cache
def _candidates(cls_name: str, field: str, dims: int) -> list:
    return list(SEARCH_FIELDS[cls_name, field](dims))


@functools.cache
def nests_configs(cls: type) -> bool:
    """Whether a required field of ``cls`` holds another config."""
    hints = typing.get_type_hints(cls)
    return any(
        _mentions_config(hints[f.name]) for f in attrs.fields(cls) if f.init and f.default is attrs.NOTHING
    )


def _mentions_config(tp: typing.Any) -> bool:
    if isinstance(tp, type) and issubclass(tp, ConfigBase):
        return True
    return any(_mentions_config(a) for a in typing.get_args(tp))


@functools.cache
def config_strategy(cls: type, depth: int = 0) -> st.SearchStrategy:
    """Valid instances of ``cls``: each field drawn or left to its default. Nested
    (``depth > 0``) configs try their defaults first and draw plain values: they only need to be
    valid, their class is tested at its own top level."""
    if cls.__name__ in CLASS_STRATEGIES:
        return CLASS_STRATEGIES[cls.__name__]
    hints = typing.get_type_hints(cls)
    fields = [f for f in attrs.fields(cls) if f.init]
    searched = [f for name, f in SEARCH_FIELDS if name == cls.__name__]

    def draw_field(draw, field: attrs.Attribute) -> typing.Any:
        return draw(field_strategy(cls, field, hints[field.name], depth))

    @st.composite
    def build(draw):
        kwargs = {f.alias: draw_field(draw, f) for f in fields if f.default is attrs.NOTHING}
        if depth > 0:  # nested: the defaults first
            try:
                return cls(**kwargs)
            except ConfigError:
                pass
        for field in fields:
            if field.default is not attrs.NOTHING and draw(st.booleans()):
                kwargs[field.alias] = draw_field(draw, field)
        try:
            return cls(**kwargs)
        except ConfigError as error:
            problem = str(error)
        for field in searched:  # while the error blames a searched field
            options = _candidates(cls.__name__, field, draw(DIMS))
            start = draw(st.integers(0, len(options) - 1))
            for value in (options[start:] + options[:start])[:SEARCH_LIMIT]:
                if f"{field}=" not in problem:
                    break
                try:
                    return cls(**{**kwargs, field: value})
                except ConfigError as error:
                    problem = str(error)
        return None  # an invalid combination: drawn again (see the filter)

    return st.deferred(build).filter(lambda config: config is not None)


def concat_array_configs() -> st.SearchStrategy:
    """``ConcatArrayConfig``s: some channels with a source, the rest from the default."""
    from dacapo.experiments.datasplits.datasets.arrays import ArrayConfig, ConcatArrayConfig

    sources = strategy_for(ArrayConfig, "ConcatArrayConfig", "source_array_configs", depth=1)

    @st.composite
    def build(draw):
        channels = draw(st.lists(NAMES, min_size=1, max_size=4, unique=True))
        with_source = draw(st.lists(st.sampled_from(channels), unique=True, max_size=len(channels)))
        complete = len(with_source) == len(channels)
        default = draw(st.none() | sources) if complete else draw(sources)
        return ConcatArrayConfig(
            name=draw(NAMES),
            channels=channels,
            source_array_configs={c: draw(sources) for c in with_source},
            default_config=default,
        )

    return build()


def storable_kind(cls: type) -> typing.Optional[str]:
    return next((kind for kind in KINDS if issubclass(cls, kind_class(kind))), None)


# --- the property ------------------------------------------------------------------------------
def test_concrete_classes_are_found():
    assert {"RunConfig", "StartConfig"} <= {c.__name__ for c in CONCRETE}


@pytest.mark.parametrize("cls", CONCRETE, ids=lambda c: c.__name__)
@settings(
    max_examples=int(os.environ.get("DACAPO_ROUNDTRIP_EXAMPLES", 20)),
    deadline=None,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_round_trip(cls, data):
    config = data.draw(config_strategy(cls), label=cls.__name__)
    document = unstructure(config)
    assert document["__type__"] == cls.__name__
    assert structure(document, cls) == config
    assert structure(document, ConfigBase) == config
    assert structure(load_yaml(dump_yaml(document)), cls) == config
    assert structure(json.loads(json.dumps(document)), cls) == config

    kind = storable_kind(cls)
    if kind is None:
        return
    with tempfile.TemporaryDirectory() as directory, mock.patch("os.fsync"):  # not tested here
        FileConfigStore(directory).store(kind, config)
        store = FileConfigStore(directory)
        assert store.retrieve(kind, config.name) == config
        store.store(kind, config)  # storing it again is recognised as identical
