"""Path values of configs and options: local paths and remote URLs.

Every path field accepts a ``str``, any ``os.PathLike`` (``pathlib.Path``, pytest's
``py.path.local``, a local ``upath.UPath``) or a remote ``upath.UPath`` / URL string
(``s3://``, ``gs://``, ``https://``...). Local values become a plain ``pathlib.Path``; remote
ones a ``UPath`` (its storage options kept in memory; a stored config keeps the URL only, so
that no credentials are written). Both round-trip through the config store as strings.
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePath
from typing import Any

_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")
_LOCAL_PROTOCOLS = ("", "file", "local")


def _upath_class():
    try:
        from upath import UPath
    except ImportError:  # universal-pathlib is a dependency; keep local paths working without it
        return None
    return UPath


def protocol(value: Any) -> str:
    """The fsspec protocol of a path value: '' for local paths."""
    UPath = _upath_class()
    if UPath is not None and isinstance(value, UPath) and not isinstance(value, PurePath):
        proto = value.protocol
        return "" if proto in _LOCAL_PROTOCOLS else proto
    if isinstance(value, str):
        match = _URL.match(value)
        if match and match.group(1).lower() not in _LOCAL_PROTOCOLS:
            return match.group(1).lower()
    return ""


def is_remote(value: Any) -> bool:
    return bool(protocol(value))


def to_path(value: Any) -> Any:
    """A local ``Path`` or a remote ``UPath`` for anything that names one; anything else is
    returned unchanged (the field's validator then rejects it)."""
    if type(value) is type(Path()):
        return value
    if is_remote(value):
        UPath = _upath_class()
        if UPath is None:
            raise ImportError(f"{value}: remote paths need universal-pathlib (pip install universal-pathlib)")
        return value if isinstance(value, UPath) else UPath(value)
    if isinstance(value, str):
        if value.startswith("file://"):
            value = value[len("file://") :]
        return Path(value)
    if isinstance(value, (PurePath, os.PathLike)):
        try:
            return Path(os.fspath(value))
        except TypeError:
            return value
    return value


def is_path(value: Any) -> bool:
    """Whether ``value`` is what ``to_path`` makes: a plain ``Path`` or a remote ``UPath``."""
    return isinstance(value, Path) or is_remote(value)


def is_local_path(value: Any) -> bool:
    return isinstance(value, Path)


def container_path(value: Any) -> Any:
    """A container's path: a local ``Path`` (``~`` expanded) or a remote ``UPath``."""
    path = to_path(value)
    return path if is_remote(path) else Path(path).expanduser()


def local_path(value: Any, what: str) -> Path:
    """``to_path`` for places that must be on this machine's file system."""
    path = to_path(value)
    if not isinstance(path, Path):
        from dacapo.config import ConfigError

        raise ConfigError(f"{what}={value!r} must be a local path (a str or os.PathLike)")
    return path
