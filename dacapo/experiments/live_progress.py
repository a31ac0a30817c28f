"""Where a training process is between checkpoints, for ``dacapo ls``: training stats are
stored only at checkpoints, so the trainer also keeps ``<runs_base_dir>/<run>/progress.json``
(iteration, length, process and time) up to date every few seconds."""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import Optional

import attrs

FILE_NAME = "progress.json"
STALE_AFTER = 600.0  # seconds without an update after which a process on another host is presumed gone


@attrs.frozen
class LiveProgress:
    iteration: int
    num_iterations: int
    pid: int
    host: str
    time: float
    running: bool  # False once the process has stopped training (finished, or an error)

    @property
    def alive(self) -> bool:
        """Is the process that wrote this still training?"""
        if not self.running:
            return False
        if self.host == socket.gethostname():
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                return False
            except PermissionError:
                return True
            return True
        return time.time() - self.time < STALE_AFTER


def _file(run_name: str, base_dir: Optional[Path] = None) -> Path:
    from dacapo.options import run_directory

    return run_directory(run_name, base_dir) / FILE_NAME


def write(run_name: str, iteration: int, num_iterations: int, running: bool = True,
          base_dir: Optional[Path] = None) -> None:
    from dacapo.store._files import atomic_write

    document = {"iteration": int(iteration), "num_iterations": int(num_iterations),
                "pid": os.getpid(), "host": socket.gethostname(), "time": time.time(),
                "running": running}
    atomic_write(_file(run_name, base_dir), json.dumps(document).encode())


def read(run_name: str, base_dir: Optional[Path] = None) -> Optional[LiveProgress]:
    """The last recorded progress, ``None`` if there is none (or it cannot be read)."""
    try:
        document = json.loads(_file(run_name, base_dir).read_text())
        return LiveProgress(**{field.name: document[field.name]
                               for field in attrs.fields(LiveProgress)})
    except (OSError, ValueError, KeyError, TypeError):
        return None
