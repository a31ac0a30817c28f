"""The config store: named configs of each kind, stored once and never silently overwritten.

``ConfigStore`` holds all the logic (kinds, name validation, duplicate detection, storing a run's
parts); a backend implements four primitives on unstructured documents (plain dicts from
``dacapo.store.converter.unstructure``):

- ``_insert(kind, name, document)``: insert atomically unless ``name`` exists; return ``None`` when
  inserted, else the existing document (exactly one of concurrent inserts of a name wins);
- ``_find(kind, name)``: the document or ``None``;
- ``_remove(kind, name)``: ``True`` when something was removed;
- ``_names(kind, where)``: names of documents whose dotted field paths (``"task_config.name"``)
  hold one of the given values (all conditions must hold; no conditions → all names).
"""

from __future__ import annotations

import importlib
import json
from abc import ABC, abstractmethod
from typing import Any, Collection, Mapping, Optional

from dacapo.config import ConfigError, config_class, validate_name

# kind -> (module, family base class)
KINDS: dict[str, tuple[str, str]] = {
    "run": ("dacapo.experiments.run_config", "RunConfig"),
    "task": ("dacapo.experiments.tasks.task_config", "TaskConfig"),
    "architecture": ("dacapo.experiments.architectures.architecture_config", "ArchitectureConfig"),
    "trainer": ("dacapo.experiments.trainers.trainer_config", "TrainerConfig"),
    "datasplit": ("dacapo.experiments.datasplits.datasplit_config", "DataSplitConfig"),
    "dataset": ("dacapo.experiments.datasplits.datasets.dataset_config", "DatasetConfig"),
    "array": ("dacapo.experiments.datasplits.datasets.arrays.array_config", "ArrayConfig"),
}

# The configs a run is made of: kind -> field of RunConfig. Storing a run stores these too.
RUN_PARTS: dict[str, str] = {
    "task": "task_config",
    "architecture": "architecture_config",
    "trainer": "trainer_config",
    "datasplit": "datasplit_config",
}


class DuplicateNameError(ConfigError):
    """A different config of the same kind is already stored under this name."""


class ConfigNotFoundError(KeyError, ConfigError):
    """No config of this kind is stored under this name."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


def kind_class(kind: str) -> type:
    """The family base class of ``kind`` (e.g. ``"task"`` → ``TaskConfig``)."""
    try:
        module, name = KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown config kind {kind!r}; kinds: {', '.join(KINDS)}") from None
    return getattr(importlib.import_module(module), name)


def _canonical(document: Any) -> str:
    return json.dumps(document, sort_keys=True, default=str)


def _aliases(kind: str):
    """``store_<kind>_config``, ``retrieve_<kind>_config``, ``delete_<kind>_config`` and
    ``retrieve_<kind>_config_names`` for the generic methods."""

    def store(self, config) -> None:
        self.store(kind, config)

    def retrieve(self, name: str):
        return self.retrieve(kind, name)

    def delete(self, name: str) -> None:
        self.delete(kind, name)

    def names(self) -> list[str]:
        return self.names(kind)

    methods = (store, retrieve, delete, names)
    for method, public in zip(methods, (f"store_{kind}_config", f"retrieve_{kind}_config",
                                         f"delete_{kind}_config", f"retrieve_{kind}_config_names")):
        method.__name__ = method.__qualname__ = public
    return methods


class ConfigStore(ABC):
    kinds = tuple(KINDS)

    # --- generic API ---------------------------------------------------------------------------
    def store(self, kind: str, config: Any) -> None:
        """Store ``config`` under its name. Identical content already stored: no-op; different
        content: ``DuplicateNameError``. A run also stores its task, architecture, trainer and
        datasplit under their own kinds (its document embeds them, so it is self-contained)."""
        cls = kind_class(kind)
        if not isinstance(config, cls):
            raise TypeError(f"store_{kind}_config expects a {cls.__name__}, got {type(config).__name__}")
        from dacapo.store.converter import unstructure

        name = validate_name(config.name, f"{kind} config")
        if kind == "run":  # its parts' own checks, those needing no data (config_problem)
            problem = config.config_problem()
            if problem is not None:
                raise ConfigError(f"{problem}; not stored")
        document = unstructure(config)
        _check_readable(kind, name, document)
        if kind == "run":
            # Refuse a conflicting run or part before storing anything.
            existing = self._find(kind, name)
            if existing is not None:
                self._check_same(kind, name, existing, document, config)
                return
            parts = {part: getattr(config, field) for part, field in RUN_PARTS.items()}
            for part, part_config in parts.items():
                part_name = validate_name(part_config.name, f"{part} config")
                existing = self._find(part, part_name)
                if existing is not None:
                    self._check_same(part, part_name, existing, unstructure(part_config), part_config)
            for part, part_config in parts.items():
                self.store(part, part_config)
        existing = self._insert(kind, name, document)
        if existing is not None:
            self._check_same(kind, name, existing, document, config)

    def retrieve(self, kind: str, name: str) -> Any:
        cls = kind_class(kind)
        validate_name(name, f"{kind} config")
        document = self._find(kind, name)
        if document is None:
            raise ConfigNotFoundError(self._not_found(kind, name))
        from dacapo.store.converter import structure

        stored_name = document.get("name")
        if stored_name != name:  # a file copied by hand, its name: left unchanged
            raise ConfigError(
                f"the {kind} config stored as {name!r} in {self} is named {stored_name!r} inside; "
                f"rename one so that they agree"
            )
        return structure(document, cls)

    def delete(self, kind: str, name: str) -> None:
        kind_class(kind)
        validate_name(name, f"{kind} config")
        if not self._remove(kind, name):
            raise ConfigNotFoundError(self._not_found(kind, name))

    def names(self, kind: str, **filters: Optional[Collection[str]]) -> list[str]:
        """Sorted names of the stored configs of ``kind``. Runs can be filtered by the names of
        their parts: ``task_names``, ``architecture_names``, ``trainer_names``, ``datasplit_names``."""
        kind_class(kind)
        allowed = {f"{part}_names": f"{field}.name" for part, field in RUN_PARTS.items()}
        where = {}
        for key, values in filters.items():
            if kind != "run" or key not in allowed:
                raise TypeError(f"retrieve_{kind}_config_names() got an unexpected filter {key!r}")
            if values is not None:
                where[allowed[key]] = [values] if isinstance(values, str) else list(values)
        return sorted(self._names(kind, where))

    # --- original DaCapo method names ----------------------------------------------------------
    store_run_config, retrieve_run_config, delete_run_config, _ = _aliases("run")
    store_task_config, retrieve_task_config, delete_task_config, retrieve_task_config_names = (
        _aliases("task")
    )
    (store_architecture_config, retrieve_architecture_config, delete_architecture_config,
     retrieve_architecture_config_names) = _aliases("architecture")
    (store_trainer_config, retrieve_trainer_config, delete_trainer_config,
     retrieve_trainer_config_names) = _aliases("trainer")
    (store_datasplit_config, retrieve_datasplit_config, delete_datasplit_config,
     retrieve_datasplit_config_names) = _aliases("datasplit")
    (store_dataset_config, retrieve_dataset_config, delete_dataset_config,
     retrieve_dataset_config_names) = _aliases("dataset")
    store_array_config, retrieve_array_config, delete_array_config, retrieve_array_config_names = (
        _aliases("array")
    )
    del _

    def retrieve_run_config_names(
        self,
        task_names: Optional[Collection[str]] = None,
        datasplit_names: Optional[Collection[str]] = None,
        architecture_names: Optional[Collection[str]] = None,
        trainer_names: Optional[Collection[str]] = None,
    ) -> list[str]:
        return self.names(
            "run",
            task_names=task_names,
            datasplit_names=datasplit_names,
            architecture_names=architecture_names,
            trainer_names=trainer_names,
        )

    # --- helpers -------------------------------------------------------------------------------
    def _not_found(self, kind: str, name: str, shown: int = 10) -> str:
        """One line: what is missing, what is stored instead, and how to fix it."""
        import difflib

        stored = self.names(kind)
        close = difflib.get_close_matches(name, stored, n=3)
        if close:
            have = f"did you mean {' or '.join(map(repr, close))}? {len(stored)} stored"
        elif stored:
            more = f" and {len(stored) - shown} more" if len(stored) > shown else ""
            have = f"stored {kind} configs: {', '.join(stored[:shown])}{more}"
        else:
            have = f"no {kind} config is stored there"
        return (
            f"no {kind} config named {name!r} in {self} ({have}); store it first "
            f"(store_{kind}_config) or point dacapo.yaml at the store that has it"
        )

    def _check_same(self, kind: str, name: str, existing: dict, document: dict, config: Any) -> None:
        if _canonical(existing) == _canonical(document):
            return
        # Documents can differ and still describe the same config (e.g. a default added later).
        from dacapo.store.converter import structure

        try:
            same = structure(existing, kind_class(kind)) == config
        except ConfigError:
            same = False
        if not same:
            raise DuplicateNameError(
                f"a different {kind} config named {name!r} is already stored in {self}; "
                f"choose another name or delete_{kind}_config({name!r}) first"
            )

    # --- backend primitives --------------------------------------------------------------------
    @abstractmethod
    def _insert(self, kind: str, name: str, document: dict) -> Optional[dict]: ...

    @abstractmethod
    def _find(self, kind: str, name: str) -> Optional[dict]: ...

    @abstractmethod
    def _remove(self, kind: str, name: str) -> bool: ...

    @abstractmethod
    def _names(self, kind: str, where: Mapping[str, Collection[str]]) -> list[str]: ...


def _check_readable(kind: str, name: str, document: dict) -> None:
    """Refuse to store what could not be read back: a value the converter rejects (a config
    built without its validators, e.g. ``seed=1.5``) or a nested dataset whose name would
    become a path (``../x``)."""
    from dacapo.store.converter import TYPE_KEY, structure

    try:
        structure(document, kind_class(kind))
    except ConfigError as error:
        raise ConfigError(f"cannot store {kind} config {name!r}, it would not read back: {error}") from None
    dataset_class = kind_class("dataset")

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            type_name = value.get(TYPE_KEY)
            if type_name is not None and issubclass(config_class(type_name), dataset_class):
                validate_name(value.get("name"), f"{kind} config {name!r}: {type_name}")
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(document)


def field_at(document: Mapping, path: str) -> Any:
    """The value at a dotted path of a document, ``None`` where the path does not exist."""
    value: Any = document
    for key in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value
