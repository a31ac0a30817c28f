"""Which blocks of a blockwise job are done, stored next to the job's output.

For an output array ``<container>/<dataset>`` the bookkeeping lives in
``<container>/.blockwise/<dataset>/`` (zarr ignores it):

- ``job.json``: the job's fingerprint (what was computed, from what, with which block
  geometry). A rerun with the same fingerprint resumes; a different one starts afresh.
- ``done/<i>_<j>_<k>.json``: one marker per completed block (its index in the block grid),
  written atomically after the block's output is written: ``{"run": RUN_ID, "worker": ...,
  "time": ...}``. ``RUN_ID`` names the run (invocation) that computed the block, so one can
  tell which blocks a rerun computed.
- ``owner.json``, ``lock`` and ``workers.lock``: who created the output array, which job
  writes it now and which worker processes (see ``ownership``); a new job keeps them.
- ``blocks/``: per-block side data (fragment ids and merges of ``segment_blockwise``),
  ``lut.npz`` (its relabelling), ``workers/`` (worker specs) and ``logs/``.

Markers are files (not a shared zarr array) so that workers never write the same file:
nothing to lock, and a worker killed mid-write leaves at most a temporary file behind.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
import time
from pathlib import Path
from typing import Iterable, Optional

import numpy as np

from dacapo.utils.faults import fault_point

BOOKKEEPING_DIR = ".blockwise"
OWNER_FILE = "owner.json"
LOCK_FILE = "lock"
WORKERS_LOCK_FILE = "workers.lock"
#: What ``clear`` keeps: the output's owner record and locks (``ownership``).
KEPT = (OWNER_FILE, LOCK_FILE, WORKERS_LOCK_FILE)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def atomic_write_json(path: Path, value) -> None:
    atomic_write_bytes(path, json.dumps(value, indent=1, sort_keys=True, default=str).encode())


def index_name(index: Iterable[int]) -> str:
    return "_".join(str(int(i)) for i in index)


def parse_index(name: str) -> tuple[int, ...]:
    return tuple(int(p) for p in name.split("_"))


class Bookkeeping:
    """Done markers and side data of one blockwise job, in ``directory``."""

    def __init__(self, directory):
        self.directory = Path(directory)

    @classmethod
    def for_array(cls, container, dataset: str) -> "Bookkeeping":
        """The bookkeeping of the job writing ``<container>/<dataset>``."""
        return cls(Path(container) / BOOKKEEPING_DIR / dataset.strip("/"))

    def __repr__(self) -> str:
        return f"Bookkeeping({str(self.directory)!r})"

    # --- the job -------------------------------------------------------------------------------
    @property
    def job_file(self) -> Path:
        return self.directory / "job.json"

    def fingerprint(self) -> Optional[dict]:
        try:
            return json.loads(self.job_file.read_text()).get("fingerprint")
        except (OSError, ValueError):
            return None

    @staticmethod
    def _normalise(fingerprint: dict) -> dict:
        return json.loads(json.dumps(fingerprint, sort_keys=True, default=str))

    def matches(self, fingerprint: dict) -> bool:
        """Whether the recorded job is ``fingerprint`` (its completed blocks can be kept)."""
        return self.fingerprint() == self._normalise(fingerprint)

    def start(self, fingerprint: dict) -> bool:
        """Prepare for a job with ``fingerprint``. Returns True if it is the recorded job (a
        resume: completed blocks are kept); otherwise clears all earlier state."""
        fingerprint = self._normalise(fingerprint)
        if self.fingerprint() == fingerprint:
            return True
        self.clear()
        atomic_write_json(self.job_file, {"fingerprint": fingerprint, "created": time.time()})
        return False

    def clear(self) -> None:
        """Forget everything of earlier jobs except who owns the output and its lock (see
        ``ownership``: the lock file may be held by this very process)."""
        if self.directory.is_dir():
            for entry in self.directory.iterdir():
                if entry.name in KEPT:
                    continue
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
        self.directory.mkdir(parents=True, exist_ok=True)

    def clear_done(self) -> None:
        """Forget the completed blocks (and their side data), keep the rest."""
        for name in ("done", "blocks"):
            shutil.rmtree(self.directory / name, ignore_errors=True)

    def remove(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)

    # --- done markers ----------------------------------------------------------------------------
    @property
    def done_dir(self) -> Path:
        return self.directory / "done"

    def marker(self, index) -> Path:
        return self.done_dir / f"{index_name(index)}.json"

    def mark_done(self, index, run_id: str, **info) -> None:
        record = {"run": run_id, "time": time.time(), "host": socket.gethostname(), "pid": os.getpid()}
        job = os.environ.get("SLURM_JOB_ID") or os.environ.get("LSB_JOBID")
        if job:
            record["job"] = job  # the cluster job that computed the block
        record.update(info)
        fault_point("blockwise.marker", self.marker(index))
        atomic_write_json(self.marker(index), record)

    def is_done(self, index) -> bool:
        return self.marker(index).is_file()

    def done(self) -> dict[tuple[int, ...], dict]:
        """``{block index: marker record}`` of the completed blocks."""
        if not self.done_dir.is_dir():
            return {}
        records = {}
        for path in self.done_dir.glob("*.json"):
            try:
                records[parse_index(path.stem)] = json.loads(path.read_text())
            except (OSError, ValueError):
                continue  # unreadable marker: the block is not done
        return records

    def done_indices(self) -> set[tuple[int, ...]]:
        if not self.done_dir.is_dir():
            return set()
        return {parse_index(p.stem) for p in self.done_dir.glob("*.json")}

    def done_mask(self, grid_shape) -> np.ndarray:
        """uint8 array over the block grid, 1 where the block is done."""
        mask = np.zeros(tuple(int(s) for s in grid_shape), dtype=np.uint8)
        for index in self.done_indices():
            if len(index) == mask.ndim and all(0 <= i < s for i, s in zip(index, mask.shape)):
                mask[index] = 1
        return mask

    # --- side data -----------------------------------------------------------------------------
    def block_file(self, index, suffix: str = ".npz") -> Path:
        return self.directory / "blocks" / f"{index_name(index)}{suffix}"

    def path(self, *parts: str) -> Path:
        return self.directory.joinpath(*parts)
