"""Configs as YAML files: ``<path>/<kind>s/<name>.yaml``, one per config.

A new file is written completely to a temp file, fsynced, then hard-linked to its final name:
``os.link`` fails if the name exists, so of two concurrent writers exactly one wins and readers
never see a partial file."""

from __future__ import annotations

import errno
import logging
import os
from pathlib import Path
from typing import Any, Collection, Mapping, Optional

import yaml

from dacapo.config import ConfigError

from ._files import fsync_dir, write_temp
from .config_store import ConfigStore, field_at

logger = logging.getLogger(__name__)

MAX_NAME_LENGTH = 250  # <name>.yaml must fit in 255 bytes


def dump_yaml(document: Any) -> str:
    return yaml.safe_dump(document, sort_keys=False)  # escapes non-ASCII: NEL etc. survive


def load_yaml(text: str, source: Any = "<string>") -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: malformed YAML ({type(exc).__name__}); fix or delete it") from None


class FileConfigStore(ConfigStore):
    def __init__(self, path: os.PathLike | str):
        self.path = Path(path).expanduser()

    def __repr__(self) -> str:
        return f"FileConfigStore({str(self.path)!r})"

    __str__ = __repr__

    def _file(self, kind: str, name: str) -> Path:
        if len(name.encode()) > MAX_NAME_LENGTH:
            raise ConfigError(f"{kind} config name {name[:40]!r}... is longer than {MAX_NAME_LENGTH} bytes")
        return self.path / f"{kind}s" / f"{name}.yaml"

    def _read(self, path: Path) -> Optional[dict]:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        document = load_yaml(text, path)
        if not isinstance(document, dict):
            raise ConfigError(f"{path}: expected a config mapping, got {type(document).__name__}")
        return document

    def _insert(self, kind: str, name: str, document: dict) -> Optional[dict]:
        target = self._file(kind, name)
        temp = write_temp(target.parent, dump_yaml(document).encode("utf-8"))
        try:
            os.link(temp, target)
        except FileExistsError:
            return self._read(target)
        except OSError as exc:  # no hard links on this filesystem
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
                raise
            return self._insert_exclusive(target, temp)
        finally:
            temp.unlink(missing_ok=True)
        fsync_dir(target.parent)
        return None

    def _insert_exclusive(self, target: Path, temp: Path) -> Optional[dict]:
        """Fallback without hard links: exclusive create, then copy. A concurrent reader may
        briefly see a partial file (only on filesystems without hard links)."""
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return self._read(target)
        with os.fdopen(fd, "wb") as f:
            f.write(temp.read_bytes())
            f.flush()
            os.fsync(f.fileno())
        fsync_dir(target.parent)
        return None

    def _find(self, kind: str, name: str) -> Optional[dict]:
        return self._read(self._file(kind, name))

    def _remove(self, kind: str, name: str) -> bool:
        path = self._file(kind, name)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        fsync_dir(path.parent)
        return True

    def _names(self, kind: str, where: Mapping[str, Collection[str]]) -> list[str]:
        directory = self.path / f"{kind}s"
        if not directory.is_dir():
            return []
        names = []
        for path in directory.iterdir():
            if path.suffix != ".yaml" or path.name.startswith("."):
                continue
            if where:
                document = self._read(path)
                if document is None or not all(
                    field_at(document, key) in values for key, values in where.items()
                ):
                    continue
            names.append(path.stem)
        return names
