"""Durable, atomic file primitives shared by the file backends.

Temp files are named ``.tmp-<random>`` (a leading dot, never a valid config, run or iteration name)
so that listings of final names never see them and they never exceed the name length limit."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import BinaryIO, Callable, Iterator, Union

TEMP_PREFIX = ".tmp-"


def fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # platforms that cannot open directories
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_temp(directory: Path, content: Union[bytes, Callable[[BinaryIO], None]]) -> Path:
    """A fully written, fsynced temp file in ``directory`` (same filesystem as its final name)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{TEMP_PREFIX}{secrets.token_hex(8)}"
    try:
        with open(path, "xb") as f:
            if callable(content):
                content(f)
            else:
                f.write(content)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def atomic_write(path: Path, content: Union[bytes, Callable[[BinaryIO], None]]) -> None:
    """Replace ``path`` with ``content``: readers see the old file or the new one, never a mix."""
    temp = write_temp(path.parent, content)
    try:
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive advisory lock on ``path`` (for read-modify-write of small files)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as f:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: single writer assumed
            yield
            return
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)
