"""Which output arrays DaCapo may replace, and one job at a time per output.

Ownership: every output array a blockwise job creates gets a random token, stored twice: in the
array's attributes (``dacapo_owner``) and in its bookkeeping (``<container>/.blockwise/<dataset>/
owner.json``, with the job that created it). An existing array is DaCapo's only when both exist
and agree; anything else at an output path (a user's raw or ground truth, an array copied from
elsewhere, a group) is foreign and is never replaced, whatever ``overwrite`` says. A DaCapo-owned
output is resumed by the job that wrote it, and replaced by a different job only with
``overwrite``. An output equal to, inside or containing one of the job's inputs is refused.

Locks: the submitting process (the daisy scheduler) holds an exclusive ``flock`` on
``<bookkeeping>/lock`` of each output while the job runs, so a second job into the same output is
refused at once. The kernel releases the lock when the holder dies (SIGKILL included), so a
killed job never blocks the next one; the lock file only says who held it last. Worker processes
(local or cluster jobs) hold a shared lock on their task's ``<bookkeeping>/workers.lock`` while
they take blocks: the workers of a killed scheduler finish their current block before they
notice, so a new job first waits (``ORPHAN_WAIT`` seconds at most) until no such worker is left.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import socket
import sys
import time
import uuid
from pathlib import Path
from typing import Iterable, Optional

from .bookkeeping import (
    KEPT,
    LOCK_FILE,
    OWNER_FILE,
    WORKERS_LOCK_FILE,
    Bookkeeping,
    atomic_write_json,
)

logger = logging.getLogger(__name__)

OWNER_ATTRIBUTE = "dacapo_owner"
#: Seconds a new job waits for the workers of a killed job to finish their block and exit.
ORPHAN_WAIT = 120.0

#: Fingerprint entries that say which job wrote an output (in refusals).
_JOB_KEYS = ("type", "run", "iteration", "parameters", "worker", "function")


class OutputRefused(FileExistsError):
    """An output path that a job must not write (foreign data, an input, another job's output)."""


class OutputBusy(RuntimeError):
    """Another job is writing the output."""


def array_path(identifier) -> Path:
    return Path(identifier.container) / str(identifier.dataset).strip("/")


def _real(path) -> Path:
    return Path(os.path.realpath(os.path.abspath(path)))


def stored_path(value) -> Path:
    """The real path of an array given as an identifier or a path."""
    return _real(array_path(value) if hasattr(value, "dataset") else value)


def _occupied(path: Path) -> bool:
    """Whether something is stored at ``path`` (a file, or a directory that is not empty)."""
    if path.is_dir():
        return any(path.iterdir())
    return path.exists() or path.is_symlink()


# --- ownership records ----------------------------------------------------------------------------
def new_owner(identifier, job: dict) -> dict:
    """Record that DaCapo is creating ``identifier`` for ``job``; returns the array attributes
    that complete the claim (written with the array)."""
    token = uuid.uuid4().hex
    atomic_write_json(
        Bookkeeping.for_array(identifier.container, identifier.dataset).path(OWNER_FILE),
        {"token": token, "job": job_summary(job), "created": time.time(),
         "host": socket.gethostname(), "pid": os.getpid()},
    )
    return {OWNER_ATTRIBUTE: token}


def owner_record(identifier) -> Optional[dict]:
    path = Bookkeeping.for_array(identifier.container, identifier.dataset).path(OWNER_FILE)
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _array_token(identifier) -> Optional[str]:
    try:
        attributes = json.loads((array_path(identifier) / ".zattrs").read_text())
    except (OSError, ValueError):
        return None
    return attributes.get(OWNER_ATTRIBUTE) if isinstance(attributes, dict) else None


def is_owned(identifier) -> bool:
    """Whether the array at ``identifier`` was created by a DaCapo blockwise job."""
    path = array_path(identifier)
    if path.is_symlink() or not (path / ".zarray").is_file():
        return False
    record = owner_record(identifier)
    token = _array_token(identifier)
    return record is not None and token is not None and record.get("token") == token


def require_owned(identifier) -> None:
    """Raise ``OutputRefused`` unless the array at ``identifier`` is DaCapo's to replace."""
    if not is_owned(identifier):
        raise OutputRefused(
            f"output {array_path(identifier)} exists and was not written by DaCapo: it is never "
            "replaced (not even with overwrite); choose another output path or remove it yourself"
        )


def job_summary(fingerprint: dict) -> dict:
    return {k: fingerprint[k] for k in _JOB_KEYS if fingerprint.get(k) is not None}


def _describe_job(record: Optional[dict]) -> str:
    job = (record or {}).get("job") or {}
    return ", ".join(f"{k} {job[k]}" for k in _JOB_KEYS if k in job) or "unknown job"


# --- the checks -----------------------------------------------------------------------------------
def check_output(identifier, inputs: Iterable, *, same_job: bool, overwrite: bool) -> None:
    """Raise ``OutputRefused`` unless a job may write ``identifier``: ``check_placement``, and,
    if something is stored there already, a DaCapo-owned array of this job (or of another one
    with ``overwrite``)."""
    check_placement(identifier, inputs)
    path = array_path(identifier)
    if not _occupied(path):
        return
    require_owned(identifier)
    if not same_job and not overwrite:
        raise OutputRefused(
            f"output {path} holds the result of another DaCapo job "
            f"({_describe_job(owner_record(identifier))}); pass overwrite (--overwrite) to "
            "replace it, or choose another output path"
        )


def check_placement(identifier, inputs: Iterable) -> None:
    """Raise ``OutputRefused`` if ``identifier`` is, lies inside or contains one of ``inputs``
    (identifiers or paths), or lies inside an existing array."""
    path = array_path(identifier)
    real = _real(path)
    for source in inputs:
        source_path = stored_path(source)
        if real == source_path or source_path in real.parents or real in source_path.parents:
            relation = ("is" if real == source_path else
                        "is inside" if source_path in real.parents else "contains")
            raise OutputRefused(
                f"output {path} {relation} the input {source_path}: choose another output path"
            )
    container = _real(identifier.container)
    for parent in real.parents:
        if parent == container or container not in parent.parents:
            break
        if (parent / ".zarray").is_file():
            raise OutputRefused(
                f"output {path} is inside the existing array {parent}: choose another output path"
            )


def check_bookkeeping(bookkeeping: Bookkeeping) -> None:
    """Raise ``OutputRefused`` if the directory of ``bookkeeping`` holds files but no record of
    a DaCapo job (a new job clears it: never a directory of the user's)."""
    directory = bookkeeping.directory
    if directory.is_dir() and any(directory.iterdir()) and not any(
        (directory / name).exists() for name in (bookkeeping.job_file.name, *KEPT)
    ):
        raise OutputRefused(
            f"bookkeeping directory {directory} holds files that DaCapo did not write; choose "
            "a new or empty directory"
        )


def array_inputs(config) -> list[Path]:
    """The local zarr/N5 arrays an array config (tree) reads: every ``file_name``/``dataset``
    pair (remote ones, s3:// and the like, cannot be an output's place and are left out)."""
    from dacapo.config import nested_configs
    from dacapo.utils.paths import is_remote

    found: list[Path] = []
    for node in nested_configs(config):
        file_name, dataset = getattr(node, "file_name", None), getattr(node, "dataset", None)
        if file_name is not None and isinstance(dataset, str) and not is_remote(file_name):
            found.append(Path(file_name) / dataset.strip("/"))
    return found


# --- locks ----------------------------------------------------------------------------------------
@contextlib.contextmanager
def locked(directories: Iterable[Path], what: dict):
    """Hold the lock of every bookkeeping directory in ``directories`` (``{directory: the
    output it guards}``) or raise ``OutputBusy`` naming the first that another job holds."""
    with contextlib.ExitStack() as stack:
        for directory in sorted(set(Path(d) for d in directories)):
            stack.enter_context(_lock(directory, what.get(directory, directory)))
        yield


def _flock(fd: int, operation: int, path: Path) -> None:
    """``flock``; on a filesystem without locks (``BlockingIOError`` aside) a warning and no
    lock: jobs still run, but concurrent ones are not detected there."""
    try:
        fcntl.flock(fd, operation)
    except BlockingIOError:
        raise
    except OSError as error:
        if path not in _UNLOCKABLE:
            _UNLOCKABLE.add(path)
            logger.warning("cannot lock %s (%s): a concurrent job into this output is not "
                           "detected", path, error.strerror)


_UNLOCKABLE: set = set()


@contextlib.contextmanager
def _lock(directory: Path, output):
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            _flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, path)
        except BlockingIOError:
            holder = os.pread(fd, 4096, 0).decode(errors="replace").strip() or "unknown"
            raise OutputBusy(
                f"output {output} is being written by another DaCapo job ({holder}); wait for "
                "it to finish or stop it, then run again"
            ) from None
        holder = (f"pid {os.getpid()} on {socket.gethostname()}, since "
                  f"{time.strftime('%Y-%m-%d %H:%M:%S')}: {' '.join(sys.argv)[:300]}")
        os.ftruncate(fd, 0)
        os.pwrite(fd, holder.encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def wait_for_orphan_workers(directories: Iterable[Path], timeout: Optional[float] = None) -> None:
    """Wait until no worker process holds ``workers.lock`` of ``directories`` (workers of a
    killed job still finishing a block); ``OutputBusy`` after ``timeout`` (``ORPHAN_WAIT``)."""
    deadline = time.monotonic() + (ORPHAN_WAIT if timeout is None else timeout)
    for directory in sorted(set(Path(d) for d in directories)):
        path = Path(directory) / WORKERS_LOCK_FILE
        if not path.exists():
            continue
        fd = os.open(path, os.O_RDWR)
        try:
            while True:
                try:
                    _flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, path)
                    break  # (closing the file releases it)
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise OutputBusy(
                            f"worker processes of an earlier, stopped job (bookkeeping "
                            f"{directory}) are still writing blocks; wait until they exit "
                            "(after their current block) or stop them, then run again"
                        ) from None
                    time.sleep(0.1)
        finally:
            os.close(fd)


@contextlib.contextmanager
def worker_lock(directory: Optional[Path]):
    """Held by a worker process while it takes blocks of a task (see the module docstring)."""
    if directory is None:
        yield
        return
    Path(directory).mkdir(parents=True, exist_ok=True)
    path = Path(directory) / WORKERS_LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _flock(fd, fcntl.LOCK_SH, path)
        yield
    finally:
        os.close(fd)
