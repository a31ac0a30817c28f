"""Stats as append-only JSON Lines: ``<path>/<run>/training_stats.jsonl`` and
``validation_scores.jsonl``, one record per iteration.

Storing appends only the new records (and fsyncs), so it costs O(new) whatever the length of the
run: the store keeps a cursor per file (its end offset and the records needed to decide what is
new) and re-reads the file only when its size, inode or mtime changed behind its back. A torn last
line (a crash mid-append) is ignored on read and cut off before the next append; replacing the
records (a rollback) is an atomic rewrite."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from pathlib import Path
from typing import Iterable, Optional

import attrs

from dacapo.config import validate_name
from dacapo.experiments.training_stats import TrainingStats
from dacapo.experiments.validation_iteration_scores import ValidationIterationScores
from dacapo.experiments.validation_scores import ValidationScores
from dacapo.utils.faults import fault_point

from ._files import atomic_write, fsync_dir
from .stats_store import (
    StatsStore,
    training_from_record,
    training_record,
    training_update,
    validation_from_record,
    validation_record,
    validation_update,
)

logger = logging.getLogger(__name__)

TRAINING = "training_stats.jsonl"
VALIDATION = "validation_scores.jsonl"


def _write_all(fd: int, view: memoryview) -> None:
    while view:
        view = view[os.write(fd, view):]


def _encode(records: Iterable[dict]) -> bytes:
    return b"".join(json.dumps(r, separators=(",", ":")).encode() + b"\n" for r in records)


@attrs.define
class _Cursor:
    stamp: tuple  # (inode, size, mtime_ns) of the file as last seen
    end: int  # offset just after the last complete record
    clean: bool  # False if a damaged record sits before the end: the next store rewrites
    last: Optional[dict]  # the last record
    keep_all: bool  # whether by_iteration is kept (validation: few, small records)
    by_iteration: dict[int, dict]


def _stamp(st: os.stat_result) -> tuple:
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def _read(path: Path, keep_all: bool) -> tuple[list[dict], _Cursor]:
    try:
        with open(path, "rb") as f:
            stamp = _stamp(os.fstat(f.fileno()))
            data = f.read()
    except FileNotFoundError:
        return [], _Cursor((None, 0, None), 0, True, None, keep_all, {})
    records: list[dict] = []
    end, clean, offset, repeated = 0, True, 0, 0
    seen: set = set()
    while offset < len(data):
        newline = data.find(b"\n", offset)
        if newline < 0:
            break  # torn last line: ignored, cut off before the next append
        line = data[offset:newline]
        offset = newline + 1
        try:
            record = json.loads(line)
            int(record["iteration"])
        except (ValueError, KeyError, TypeError):
            if data[offset:].strip(b"\x00\n "):
                logger.warning("%s: skipping a damaged record at byte %d", path, offset - len(line) - 1)
                clean = False
                end = offset
            continue  # a damaged last line is torn too
        # an iteration stored again (a file edited or concatenated by hand): the later wins.
        # Validation records may come in any order (an earlier checkpoint validated later).
        if keep_all and record["iteration"] in seen:
            records = [r for r in records if r["iteration"] != record["iteration"]]
            repeated, clean = repeated + 1, False
        while not keep_all and records and records[-1]["iteration"] >= record["iteration"]:
            records.pop()
            repeated, clean = repeated + 1, False
        if keep_all:
            seen.add(record["iteration"])
        records.append(record)
        end = offset
    if repeated:
        logger.warning("%s: %d records of iterations stored again later; keeping the later ones",
                       path, repeated)
    by_iteration = {r["iteration"]: r for r in records} if keep_all else {}
    last = records[-1] if records else None
    return records, _Cursor(stamp, end, clean, last, keep_all, by_iteration)


class FileStatsStore(StatsStore):
    def __init__(self, path: os.PathLike | str):
        self.path = Path(path).expanduser()
        self._cursors: dict[Path, _Cursor] = {}
        self._lock = threading.RLock()  # one instance may be shared by threads (create_stats_store)

    def __repr__(self) -> str:
        return f"FileStatsStore({str(self.path)!r})"

    # --- training stats -----------------------------------------------------------------------
    def store_training_stats(self, run_name: str, stats: TrainingStats) -> None:
        with self._lock:
            self._store_training_stats(self._file(run_name, TRAINING), stats)

    def _store_training_stats(self, path: Path, stats: TrainingStats) -> None:
        cursor = self._cursor(path, keep_all=False)
        new = training_update(stats, cursor.last) if cursor.clean else None
        if new is None:
            self._rewrite(path, [training_record(s) for s in stats.iteration_stats], keep_all=False)
        else:
            self._append(path, cursor, [training_record(s) for s in new])

    def retrieve_training_stats(self, run_name: str) -> TrainingStats:
        path = self._file(run_name, TRAINING)
        with self._lock:
            records, self._cursors[path] = _read(path, keep_all=False)
        stats = TrainingStats()
        for record in records:
            stats.add_iteration_stats(training_from_record(record))
        return stats

    def delete_training_stats(self, run_name: str) -> None:
        self._delete(self._file(run_name, TRAINING))

    # --- validation scores --------------------------------------------------------------------
    def store_validation_iteration_scores(self, run_name: str, scores: ValidationScores) -> None:
        with self._lock:
            self._store_validation_scores(self._file(run_name, VALIDATION), scores)

    def _store_validation_scores(self, path: Path, scores: ValidationScores) -> None:
        cursor = self._cursor(path, keep_all=True)
        replace, items = validation_update(scores.scores, cursor.by_iteration)
        if replace or not cursor.clean:
            if not replace:
                items = sorted(
                    [validation_from_record(r) for r in cursor.by_iteration.values()] + items,
                    key=lambda s: s.iteration,
                )
            self._rewrite(path, [validation_record(s) for s in items], keep_all=True)
        else:
            self._append(path, cursor, [validation_record(s) for s in items])

    def retrieve_validation_iteration_scores(self, run_name: str) -> list[ValidationIterationScores]:
        path = self._file(run_name, VALIDATION)
        with self._lock:
            _, cursor = _read(path, keep_all=True)
            self._cursors[path] = cursor
        # by_iteration: a later record of an iteration wins (this store writes none twice)
        return [validation_from_record(cursor.by_iteration[i]) for i in sorted(cursor.by_iteration)]

    def delete_validation_scores(self, run_name: str) -> None:
        self._delete(self._file(run_name, VALIDATION))

    # --- files --------------------------------------------------------------------------------
    def _file(self, run_name: str, name: str) -> Path:
        return self.path / validate_name(run_name, "run") / name

    def _cursor(self, path: Path, keep_all: bool) -> _Cursor:
        cursor = self._cursors.get(path)
        try:
            stamp = _stamp(os.stat(path))
        except FileNotFoundError:
            stamp = (None, 0, None)
        if cursor is None or cursor.stamp != stamp:
            _, cursor = _read(path, keep_all)
            self._cursors[path] = cursor
        return cursor

    def _append(self, path: Path, cursor: _Cursor, records: list[dict]) -> None:
        if not records:
            return
        data = _encode(records)
        path.parent.mkdir(parents=True, exist_ok=True)
        created = not path.exists()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
            try:
                if os.fstat(fd).st_size != cursor.end:
                    os.ftruncate(fd, cursor.end)  # cut off a torn last line
                os.lseek(fd, cursor.end, os.SEEK_SET)
                half = len(data) // 2  # (a fault point between the halves makes a torn line)
                _write_all(fd, memoryview(data)[:half])
                fault_point("stats.append", path)
                _write_all(fd, memoryview(data)[half:])
                os.fsync(fd)
                cursor.stamp = _stamp(os.fstat(fd))
            except OSError:
                with contextlib.suppress(OSError):  # best effort: no torn line left behind
                    os.ftruncate(fd, cursor.end)
                raise
            finally:
                os.close(fd)
        except OSError as exc:
            # a torn line that could not be cut off is ignored on read, cut off by the next append
            raise OSError(exc.errno, f"could not store {path}: {exc.strerror or exc}") from exc
        if created:
            fsync_dir(path.parent)
        cursor.end += len(data)
        cursor.last = records[-1]
        if cursor.keep_all:
            cursor.by_iteration.update((r["iteration"], r) for r in records)

    def _rewrite(self, path: Path, records: list[dict], keep_all: bool) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = _encode(records)
        atomic_write(path, data, fault="stats.rewrite")
        st = os.stat(path)
        by_iteration = {r["iteration"]: r for r in records} if keep_all else {}
        last = records[-1] if records else None
        self._cursors[path] = _Cursor(_stamp(st), len(data), True, last, keep_all, by_iteration)

    def _delete(self, path: Path) -> None:
        with self._lock:
            self._cursors.pop(path, None)
            path.unlink(missing_ok=True)
        try:
            path.parent.rmdir()
        except OSError:
            pass
