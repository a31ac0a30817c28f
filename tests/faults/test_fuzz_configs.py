"""Fuzzed configs never produce a traceback from inside the library: structuring a mutated or
random document, verifying the config, storing and reading it back, or reading a damaged YAML
file, fails (if it fails) with a one-line ``ConfigError`` only."""

from __future__ import annotations

import copy
import math

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dacapo.config import CONFIG_TYPES, ConfigBase, ConfigError, import_config_families
from dacapo.experiments import RunConfig
from dacapo.store.converter import TYPE_KEY, structure, unstructure
from dacapo.store.file_config_store import FileConfigStore

from e2e.helpers import small_run_config

FUZZ = settings(max_examples=100, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

import_config_families()
TYPE_NAMES = sorted(CONFIG_TYPES)

values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=12)
    | st.sampled_from(["", "..", "/abs", "a/b", "x\n", "-1", "nan", "1e400", "[1,2]"])
    | st.sampled_from(TYPE_NAMES),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=8) | st.just(TYPE_KEY), inner, max_size=4),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def valid_document(tmp_path_factory):
    return unstructure(small_run_config(tmp_path_factory.mktemp("fuzz"), name="fuzzed"))


def _paths(document, prefix=()):
    """Every (path, value) in a nested document."""
    yield prefix, document
    if isinstance(document, dict):
        for key, value in document.items():
            yield from _paths(value, prefix + (key,))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from _paths(value, prefix + (index,))


@st.composite
def mutated(draw, document):
    document = copy.deepcopy(document)
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p, _ in _paths(document) if p]
        path = draw(st.sampled_from(paths))
        parent = document
        for key in path[:-1]:
            parent = parent[key]
        key = path[-1]
        action = draw(st.sampled_from(["replace", "delete", "add", "retype", "wrap"]))
        if action == "replace":
            parent[key] = draw(values)
        elif action == "delete":
            del parent[key]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=8))] = draw(values)
        elif action == "retype" and isinstance(parent, dict):
            parent[TYPE_KEY] = draw(st.sampled_from(TYPE_NAMES) | st.text(max_size=8))
        elif action == "wrap":
            parent[key] = [parent[key]] if draw(st.booleans()) else {"value": parent[key]}
    return document


def _check(document, declared, tally, what: str) -> None:
    tally.bad_input(what)
    try:
        config = structure(document, declared)
    except ConfigError as error:
        assert "\n" not in str(error).strip(), f"a multi-line error: {error}"
        return
    try:
        result = config.verify()
    except ConfigError:
        return
    assert isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], bool)
    assert structure(unstructure(config), declared) == config  # what was accepted round-trips
    if isinstance(config, RunConfig):  # the cheap runtime objects of a run
        for part in (config.task_config, config.trainer_config):
            try:
                part.verify()
                runtime_type = getattr(part, "task_type", None) or part.trainer_type
                runtime_type(part)
            except ConfigError:
                pass


@FUZZ
@given(data=st.data())
def test_mutated_run_configs(valid_document, data, tally):
    _check(data.draw(mutated(valid_document)), RunConfig, tally, "config:mutated run")


@FUZZ
@given(type_name=st.sampled_from(TYPE_NAMES), data=st.data())
def test_random_documents_of_every_config_class(type_name, data, tally):
    cls = CONFIG_TYPES[type_name]
    fields = [f.name for f in attrs.fields(cls)] if attrs.has(cls) else []
    document = {TYPE_KEY: type_name}
    for name in data.draw(st.lists(st.sampled_from(fields), unique=True)) if fields else []:
        document[name] = data.draw(values)
    if data.draw(st.booleans()):
        document["name"] = data.draw(st.text(max_size=10))
    _check(document, ConfigBase, tally, "config:random document")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=200) | st.binary(max_size=200).map(lambda b: b.decode("latin-1")))
def test_damaged_yaml_files_read_as_config_errors(tmp_path_factory, valid_document, text, tally):
    from dacapo.store.file_config_store import dump_yaml

    store = FileConfigStore(tmp_path_factory.mktemp("yaml", numbered=True))
    good = dump_yaml(valid_document)
    cut = len(text) % (len(good) + 1)
    path = store.path / "runs" / "fuzzed.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(good[:cut] + text, encoding="utf-8", errors="surrogatepass")
    tally.bad_input("config:damaged yaml")
    try:
        config = store.retrieve_run_config("fuzzed")
    except ConfigError as error:
        assert "\n" not in str(error).strip(), f"a multi-line error: {error}"
    else:
        assert isinstance(config, RunConfig)


def test_non_finite_numbers_are_refused_or_kept(valid_document, tally):
    document = copy.deepcopy(valid_document)
    document["trainer_config"]["learning_rate"] = math.nan
    _check(document, RunConfig, tally, "config:nan learning rate")
