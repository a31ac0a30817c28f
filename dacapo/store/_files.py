"""Durable, atomic file primitives shared by the file backends.

Temp files are named ``.tmp-<random>`` (a leading dot, never a valid config, run or iteration name)
so that listings of final names never see them and they never exceed the name length limit."""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from pathlib import Path
from typing import BinaryIO, Callable, Iterator, Optional, Union

from dacapo.utils.faults import fault_point

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
    with _temp(directory, content) as path:
        return path


@contextlib.contextmanager
def _temp(directory: Path, content: Union[bytes, Callable[[BinaryIO], None]]) -> Iterator[Path]:
    """A temp file written and fsynced, locked (``flock``) until the block ends so that
    ``remove_stale_temps`` never takes it for the leftover of a killed writer."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{TEMP_PREFIX}{secrets.token_hex(8)}"
    try:
        with open(path, "xb") as f:
            _lock(f.fileno(), blocking=True)
            if callable(content):
                content(f)
            else:
                f.write(content)
            f.flush()
            os.fsync(f.fileno())
            yield path
    except BaseException:
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
        raise


def atomic_write(
    path: Path, content: Union[bytes, Callable[[BinaryIO], None]], fault: Optional[str] = None
) -> None:
    """Replace ``path`` with ``content``: readers see the old file or the new one, never a mix.
    An ``OSError`` (disk full, read-only) names ``path``; the old file is left as it was.
    ``fault`` names the ``dacapo.utils.faults`` points ``<fault>.write`` and ``<fault>.written``."""
    try:
        if fault:
            fault_point(f"{fault}.write", path)
        with _temp(path.parent, content) as temp:
            if fault:
                fault_point(f"{fault}.written", path)
            os.replace(temp, path)
    except OSError as exc:
        if exc.filename is not None and str(path) in str(exc.filename):
            raise
        raise OSError(exc.errno, f"could not store {path}: {exc.strerror or exc}") from exc
    fsync_dir(path.parent)


def remove_stale_temps(directory: Path, min_age: float = 10.0) -> list[Path]:
    """Remove the temp files that killed writers left in ``directory`` (those no live writer
    holds locked; empty ones only when older than ``min_age`` seconds: a writer may not have
    locked its new file yet). Returns the removed paths."""
    removed = []
    try:
        entries = [p for p in directory.iterdir() if p.name.startswith(TEMP_PREFIX)]
    except OSError:  # no directory yet
        return removed
    for path in entries:
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue
        try:
            if not _lock(fd, blocking=False):
                continue  # being written
            st = os.fstat(fd)
            if st.st_size == 0 and time.time() - st.st_mtime < min_age:
                continue
            path.unlink(missing_ok=True)
            removed.append(path)
        except OSError:  # (a read-only directory: the write that follows reports it)
            continue
        finally:
            os.close(fd)
    return removed


def _lock(fd: int, blocking: bool) -> bool:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no stale temps are removed
        return blocking
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:  # filesystems without flock
        return blocking
    return True


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
