"""An exclusive per-run lock so that two ``dacapo train`` processes never interleave on one run.
It is an OS advisory lock (``fcntl.flock``): a killed holder releases it automatically."""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional


class RunLockedError(RuntimeError):
    pass


# The lock's file descriptors held by this process. A forked child (a data worker) closes its
# copies at once: otherwise it would hold the flock, shared by the copies, after the trainer is
# killed, and refuse the resume until it notices.
_held: set[int] = set()


def _close_in_child() -> None:
    for fd in _held:
        try:
            os.close(fd)
        except OSError:
            pass
    _held.clear()


os.register_at_fork(after_in_child=_close_in_child)


@contextmanager
def run_lock(run_name: str, base_dir: Optional[Path] = None) -> Iterator[Path]:
    from dacapo.config import validate_name
    from dacapo.options import Options

    validate_name(run_name, "run")
    base_dir = Path(base_dir or Options.instance().runs_base_dir)
    path = base_dir / run_name / "train.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "another process"
            raise RunLockedError(
                f"run {run_name!r} is already being trained by {holder} (lock {path})"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}".encode(), 0)
        _held.add(fd)
        yield path
    finally:
        _held.discard(fd)
        os.close(fd)
