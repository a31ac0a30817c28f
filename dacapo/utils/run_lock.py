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
        yield path
    finally:
        os.close(fd)
