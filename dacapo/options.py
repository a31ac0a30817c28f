"""DaCapo options: where things are stored and where work runs.

Looked up (first found wins) in ``$DACAPO_OPTIONS_FILE``, ``./dacapo.yaml``, ``~/dacapo.yaml``,
``~/.config/dacapo/dacapo.yaml``; every key can be overridden by ``DACAPO_<KEY>`` environment
variables and by keyword arguments to ``Options.instance``. Spawned workers see the same options
because ``Options.export_environment()`` writes them to ``DACAPO_*`` variables.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Optional

import attrs
import yaml

from dacapo.config import ConfigError
from dacapo.utils.paths import local_path

ALIASES = {"mongo_db_host": "mongodbhost", "mongo_db_name": "mongodbname"}


@attrs.frozen
class DaCapoOptions:
    type: str = attrs.field(default="files", metadata={"help_text": "config/stats store: files or mongo"})
    runs_base_dir: Path = attrs.field(
        default=Path("~/dacapo"),
        converter=lambda p: _directory(p, "runs_base_dir"),
        metadata={"help_text": "directory for configs, stats, checkpoints and predictions"},
    )
    mongodbhost: Optional[str] = attrs.field(
        default=None, repr=lambda uri: _redact(uri), metadata={"help_text": "MongoDB URI"}
    )
    mongodbname: Optional[str] = attrs.field(default=None, metadata={"help_text": "MongoDB database"})
    compute_context: dict = attrs.field(
        factory=lambda: {"type": "LocalTorch", "config": {}},
        metadata={"help_text": "{type: LocalTorch|Bsub|Slurm, config: {...}}"},
    )
    validation_max_voxels: int = attrs.field(
        default=256**3,
        converter=lambda v: _positive_int(v, "validation_max_voxels"),
        metadata={"help_text": "validation datasets with more voxels are post-processed and "
                               "scored blockwise, in blocks of at most this many voxels"},
    )
    config_file: Optional[Path] = attrs.field(default=None, metadata={"help_text": "file read"})

    def __attrs_post_init__(self) -> None:
        if self.type not in ("files", "mongo"):
            raise ConfigError(
                f"dacapo.yaml: type must be 'files' or 'mongo', got {self.type!r}"
            )
        if self.type == "mongo" and not (self.mongodbhost and self.mongodbname):
            raise ConfigError("dacapo.yaml: type 'mongo' needs both mongodbhost and mongodbname")
        from dacapo.compute_context import context_class

        context_class(self.compute_context, where="dacapo.yaml: compute_context")

    # the original's spellings (dacapo-ml 0.3.5): ``options.mongo_db_host`` and ``serialize()``
    @property
    def mongo_db_host(self) -> Optional[str]:
        return self.mongodbhost

    @property
    def mongo_db_name(self) -> Optional[str]:
        return self.mongodbname

    def serialize(self) -> dict:
        """The options as the original's ``DaCapoConfig.serialize()`` returns them: its keys,
        plain values, ``None`` left out."""
        data = {
            "type": self.type,
            "runs_base_dir": str(self.runs_base_dir),
            "compute_context": self.compute_context,
            "mongo_db_host": self.mongodbhost,
            "mongo_db_name": self.mongodbname,
        }
        return {k: v for k, v in data.items() if v is not None}


DaCapoConfig = DaCapoOptions  # the original's name


def _directory(value: Any, key: str) -> Path:
    if not isinstance(value, (str, os.PathLike)) or not str(value).strip():
        raise ConfigError(f"dacapo.yaml: {key} must be a directory path, got {value!r}")
    return local_path(value, f"dacapo.yaml: {key}").expanduser()


def _positive_int(value: Any, key: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if number < 1 or isinstance(value, bool) or (isinstance(value, float) and value != number):
        raise ConfigError(f"dacapo.yaml: {key} must be a positive integer, got {value!r}")
    return number


def _redact(uri: Optional[str]) -> str:
    """A URI without its password, for logs and reprs."""
    import re

    return repr(re.sub(r"(//[^:/@]+):[^@/]*@", r"\1:***@", uri) if uri else uri)


def _candidate_files() -> list[Path]:
    files = []
    if os.environ.get("DACAPO_OPTIONS_FILE"):
        files.append(Path(os.environ["DACAPO_OPTIONS_FILE"]).expanduser())
    files += [
        Path.cwd() / "dacapo.yaml",
        Path("~/dacapo.yaml").expanduser(),
        Path("~/.config/dacapo/dacapo.yaml").expanduser(),
    ]
    return files


def _read_file(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        where = f" (line {line + 1})" if line is not None else ""
        raise ConfigError(f"{path}: malformed YAML{where}; fix the file or remove it") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of options, got {type(data).__name__}")
    return data


def _normalise(data: dict, source: str) -> dict:
    import difflib

    known = {f.name for f in attrs.fields(DaCapoOptions)} - {"config_file"}  # set by the lookup
    out = {}
    for key, value in data.items():
        key = ALIASES.get(str(key).lower(), str(key).lower())
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ConfigError(
                f"{source}: unknown option {key!r}; {hint}known: {', '.join(sorted(known))}"
            )
        out[key] = value
    return out


def _from_environment() -> dict:
    out = {}
    for field in attrs.fields(DaCapoOptions):
        for key in [field.name] + [a for a, t in ALIASES.items() if t == field.name]:
            value = os.environ.get(f"DACAPO_{key.upper()}")
            if value is not None:
                out[field.name] = json.loads(value) if field.name == "compute_context" else value
    return out


class Options:
    """``Options.instance(**overrides)`` → the current ``DaCapoOptions``."""

    def __init__(self) -> None:
        raise RuntimeError("Singleton: Use Options.instance()")

    @classmethod
    def config_file(cls) -> Optional[Path]:
        return next((p for p in _candidate_files() if p.is_file()), None)

    @classmethod
    def instance(cls, **overrides: Any) -> DaCapoOptions:
        path = cls.config_file()
        values = _normalise(_read_file(path), str(path)) if path else {}
        values.update(_from_environment())
        values.update(_normalise(overrides, "Options.instance"))
        return DaCapoOptions(**values, config_file=path)

    @classmethod
    def export_environment(cls, options: Optional[DaCapoOptions] = None) -> dict[str, str]:
        """Environment variables that make a child process see ``options``."""
        options = options or cls.instance()
        env = {
            "DACAPO_TYPE": options.type,
            "DACAPO_RUNS_BASE_DIR": str(options.runs_base_dir),
            "DACAPO_COMPUTE_CONTEXT": json.dumps(options.compute_context),
            "DACAPO_VALIDATION_MAX_VOXELS": str(options.validation_max_voxels),
        }
        if options.mongodbhost:
            env["DACAPO_MONGODBHOST"] = options.mongodbhost
        if options.mongodbname:
            env["DACAPO_MONGODBNAME"] = options.mongodbname
        return env


def run_directory(run_name: str, base_dir: Optional[Path] = None) -> Path:
    """``<runs_base_dir>/<run>``: where a run's checkpoints, TensorBoard events, progress and
    length records live (``base_dir`` instead of the options' ``runs_base_dir`` if given)."""
    from dacapo.config import validate_name

    return Path(base_dir or Options.instance().runs_base_dir) / validate_name(run_name, "run")


def __getattr__(name: str) -> Any:  # ``dacapo.options.runs_base_dir`` style access
    if name in {f.name for f in attrs.fields(DaCapoOptions)} | set(ALIASES):
        return getattr(Options.instance(), name)
    raise AttributeError(name)
