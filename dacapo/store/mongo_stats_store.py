"""Stats in MongoDB: collection ``training_stats`` holds one document per trained iteration
(``run``, ``iteration``, ``loss``, ``time``, optional ``learning_rate``, ``data_time``) and
``validation_scores`` one per validated iteration (``run``, ``iteration``, ``scores``); both have a
unique index on ``(run, iteration)``.

Same behaviour as ``FileStatsStore`` (the decisions are the shared helpers of ``stats_store``):
storing inserts only the new iterations, O(new) whatever the length of the run. The store keeps
a cursor per run (the last stored training record; the stored validation records) and checks it
with one indexed query (the cursor's last record still stored, nothing after it) before
appending; a cursor found stale, or an insert refused by the unique index (someone else wrote),
makes it re-read. A rollback (the caller's stats end before the stored ones or differ from them)
is applied as a minimal diff: deletes and upserts, idempotent, so an interrupted one is finished
by the next store.

Outages: transient errors are retried with backoff (see ``_mongo``). If the server stays away,
``store_training_stats`` and ``store_validation_iteration_scores`` do not raise: the stats are
kept in memory (a warning is logged once per outage) and written by the next call that reaches
the server, by ``flush()``, or at interpreter exit. While stats of a run are buffered,
``retrieve_validation_iteration_scores`` answers from memory if the server is unreachable, so
validating during an outage does not stop training either."""

from __future__ import annotations

import atexit
import logging
import threading
import weakref
from typing import Callable, Optional

from dacapo.config import validate_name
from dacapo.experiments.training_stats import TrainingStats
from dacapo.experiments.validation_iteration_scores import ValidationIterationScores
from dacapo.experiments.validation_scores import ValidationScores

from ._mongo import (
    DEFAULT_BACKOFF,
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    MongoConnection,
    MongoStoreError,
    MongoUnavailableError,
    one_line,
)
from .stats_store import (
    StatsStore,
    same_record,
    training_from_record,
    training_record,
    training_update,
    validation_from_record,
    validation_record,
    validation_update,
)

logger = logging.getLogger(__name__)

TRAINING = "training_stats"
VALIDATION = "validation_scores"
PROJECTION = {"_id": 0, "run": 0}
# query comments (visible in the server's logs and profiler): O(1) cursor checks, full reads
CHECK, LOAD = "dacapo:check", "dacapo:load"
RESYNC_ATTEMPTS = 4  # a store re-reads at most this often when others write the same run


class _Stale(Exception):
    """A write met records this store did not know of: re-read and decide again."""


def _load(collection, run: str) -> list[dict]:
    """All records of ``run``, ordered by iteration."""
    return list(collection.find({"run": run}, PROJECTION, comment=LOAD).sort("iteration", 1))


def _check(collection, query: dict) -> list[dict]:
    """At most two records matching ``query`` (an indexed range: O(1))."""
    return list(collection.find(query, PROJECTION).sort("iteration", 1).limit(2).comment(CHECK))


def _only_duplicates(exc) -> bool:
    errors = exc.details.get("writeErrors", []) if getattr(exc, "details", None) else []
    return bool(errors) and all(e.get("code") == 11000 for e in errors)


class MongoStatsStore(StatsStore):
    def __init__(
        self,
        db_host: str,
        db_name: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        backoff: float = DEFAULT_BACKOFF,
        **client_options,
    ):
        self._mongo = MongoConnection(db_host, db_name, timeout, retries, backoff, client_options)
        self.db_name = db_name
        self._lock = threading.RLock()  # one instance may be shared by threads (create_stats_store)
        self._indexed = False
        self._training: dict[str, Optional[dict]] = {}  # run -> last stored record (None: none)
        self._validation: dict[str, dict[int, dict]] = {}  # run -> stored records by iteration
        # unsent stats, kept while the server is unreachable: (kind, run) -> what to store
        self._pending: dict[tuple[str, str], object] = {}
        self._outage = False
        _stores.add(self)

    def __repr__(self) -> str:
        return f"MongoStatsStore({self._mongo.host!r}, {self.db_name!r})"

    __str__ = __repr__

    def close(self) -> None:
        """Release the client if the store has its own (``client_options`` given); write
        buffered stats first if the server is reachable."""
        with self._lock:
            try:
                self.flush()
            finally:
                self._mongo.close()

    @property
    def db(self):
        return self._mongo.db

    def _collection(self, name: str):
        """The collection ``name``, indexed before the first use (call inside ``_mongo.call``)."""
        if not self._indexed:
            for collection in (TRAINING, VALIDATION):
                self._mongo.db[collection].create_index(
                    [("run", 1), ("iteration", 1)], name="run_iteration", unique=True
                )
            self._indexed = True
        return self._mongo.db[name]

    # --- training stats -----------------------------------------------------------------------
    def store_training_stats(self, run_name: str, stats: TrainingStats) -> None:
        validate_name(run_name, "run")
        with self._lock:
            self._store_or_buffer(
                (TRAINING, run_name), stats, lambda s: self._store_training(run_name, s),
                lambda s: TrainingStats(list(s.iteration_stats)),
            )

    def retrieve_training_stats(self, run_name: str) -> TrainingStats:
        validate_name(run_name, "run")
        with self._lock:
            self._flush(retry=not self._outage)
            records = self._mongo.call(
                f"reading the training stats of run {run_name!r}",
                lambda: self._read_all(TRAINING, run_name),
            )
            self._back()
            self._training[run_name] = records[-1] if records else None
        stats = TrainingStats()
        for record in records:
            stats.add_iteration_stats(training_from_record(record))
        return stats

    def delete_training_stats(self, run_name: str) -> None:
        validate_name(run_name, "run")
        with self._lock:
            self._pending.pop((TRAINING, run_name), None)
            self._training.pop(run_name, None)
            self._mongo.call(
                f"deleting the training stats of run {run_name!r}",
                lambda: self._collection(TRAINING).delete_many({"run": run_name}),
            )
            self._training[run_name] = None

    def _store_training(self, run: str, stats: TrainingStats) -> None:
        collection = self._collection(TRAINING)
        for _ in range(RESYNC_ATTEMPTS):
            last = self._training_cursor(collection, run)
            new = training_update(stats, last)
            try:
                if new is None:
                    stored = {r["iteration"]: r for r in _load(collection, run)}
                    records = [training_record(s) for s in stats.iteration_stats]
                    self._apply(collection, run, stored, records)
                    self._training[run] = records[-1] if records else None
                elif new:
                    records = [training_record(s) for s in new]
                    self._insert(collection, run, records)
                    self._training[run] = records[-1]
                return
            except _Stale:
                self._training.pop(run, None)
        raise MongoStoreError(
            f"training stats of run {run!r} in {self} keep changing while being stored: "
            "is another process training this run?"
        )

    def _training_cursor(self, collection, run: str) -> Optional[dict]:
        """The last stored training record, checked in O(1) if known, else read."""
        if run in self._training:
            last = self._training[run]
            query = {"run": run}
            if last is not None:
                query["iteration"] = {"$gte": last["iteration"]}
            found = _check(collection, query)
            if (last is None and not found) or (
                last is not None and len(found) == 1 and same_record(found[0], last)
            ):
                return last
        last = collection.find_one(
            {"run": run}, PROJECTION, sort=[("iteration", -1)], comment=LOAD
        )
        self._training[run] = last
        return last

    def _read_all(self, kind: str, run: str) -> list[dict]:
        return _load(self._collection(kind), run)

    # --- validation scores --------------------------------------------------------------------
    def store_validation_iteration_scores(self, run_name: str, scores: ValidationScores) -> None:
        validate_name(run_name, "run")
        with self._lock:
            self._store_or_buffer(
                (VALIDATION, run_name), list(scores.scores),
                lambda s: self._store_validation(run_name, s), list,
            )

    def retrieve_validation_iteration_scores(
        self, run_name: str
    ) -> list[ValidationIterationScores]:
        validate_name(run_name, "run")
        with self._lock:
            try:
                self._flush(retry=not self._outage)
                records = self._mongo.call(
                    f"reading the validation scores of run {run_name!r}",
                    lambda: self._read_all(VALIDATION, run_name),
                )
                self._back()
            except MongoUnavailableError:
                known = self._pending.get((VALIDATION, run_name))
                if known is None and run_name in self._validation:
                    stored = self._validation[run_name]
                    known = [validation_from_record(stored[i]) for i in sorted(stored)]
                if known is None:
                    raise
                log = logger.info if self._outage else logger.warning  # once per outage
                self._outage = True
                log(
                    "MongoDB at %s is unreachable: using the %d validation scores of run %r "
                    "known to this process", self._mongo.host, len(known), run_name,
                )
                return sorted(known, key=lambda s: s.iteration)
            self._validation[run_name] = {r["iteration"]: r for r in records}
        # one record per iteration (unique index), ordered by iteration
        return [validation_from_record(r) for r in records]

    def delete_validation_scores(self, run_name: str) -> None:
        validate_name(run_name, "run")
        with self._lock:
            self._pending.pop((VALIDATION, run_name), None)
            self._validation.pop(run_name, None)
            self._mongo.call(
                f"deleting the validation scores of run {run_name!r}",
                lambda: self._collection(VALIDATION).delete_many({"run": run_name}),
            )
            self._validation[run_name] = {}

    def _store_validation(self, run: str, scores: list[ValidationIterationScores]) -> None:
        collection = self._collection(VALIDATION)
        for _ in range(RESYNC_ATTEMPTS):
            stored = self._validation_cursor(collection, run)
            replace, items = validation_update(scores, stored)
            records = [validation_record(s) for s in items]
            try:
                if replace:
                    self._apply(collection, run, stored, records)
                    self._validation[run] = {r["iteration"]: r for r in records}
                elif records:
                    self._insert(collection, run, records)
                    stored.update((r["iteration"], r) for r in records)
                return
            except _Stale:
                self._validation.pop(run, None)
        raise MongoStoreError(
            f"validation scores of run {run!r} in {self} keep changing while being stored: "
            "is another process validating this run?"
        )

    def _validation_cursor(self, collection, run: str) -> dict[int, dict]:
        """The stored validation records, checked in O(1) if known, else read."""
        stored = self._validation.get(run)
        if stored is not None:
            top = max(stored, default=None)
            query = {"run": run}
            if top is not None:
                query["iteration"] = {"$gte": top}
            found = _check(collection, query)
            if (top is None and not found) or (
                top is not None and len(found) == 1 and same_record(found[0], stored[top])
            ):
                return stored
        stored = {r["iteration"]: r for r in _load(collection, run)}
        self._validation[run] = stored
        return stored

    # --- writes -------------------------------------------------------------------------------
    @staticmethod
    def _insert(collection, run: str, records: list[dict]) -> None:
        """Insert new records; ``_Stale`` if some were already there (another writer, or a
        retried insert whose first reply was lost)."""
        from pymongo.errors import BulkWriteError

        try:
            collection.insert_many([{"run": run, **r} for r in records], ordered=True)
        except BulkWriteError as exc:
            if _only_duplicates(exc):
                raise _Stale() from None
            raise MongoStoreError(
                f"MongoDB refused stats of run {run!r}: {one_line(exc.details)}"
            ) from None

    @staticmethod
    def _apply(collection, run: str, stored: dict[int, dict], records: list[dict]) -> None:
        """Make the stored records of ``run`` equal ``records``: delete and upsert only what
        differs."""
        from pymongo import DeleteMany, ReplaceOne
        from pymongo.errors import BulkWriteError

        wanted = {r["iteration"]: r for r in records}
        operations: list = []
        obsolete = sorted(i for i in stored if i not in wanted)
        last = max(wanted, default=None)
        beyond = [i for i in obsolete if last is None or i > last]
        if beyond:  # a rollback: one range delete
            query = {"run": run}
            if last is not None:
                query["iteration"] = {"$gt": last}
            operations.append(DeleteMany(query))
        inside = [i for i in obsolete if last is not None and i <= last]
        for start in range(0, len(inside), 10000):
            chunk = inside[start : start + 10000]
            operations.append(DeleteMany({"run": run, "iteration": {"$in": chunk}}))
        operations += [
            ReplaceOne({"run": run, "iteration": i}, {"run": run, **r}, upsert=True)
            for i, r in wanted.items()
            if i not in stored or not same_record(stored[i], r)
        ]
        if not operations:
            return
        try:
            collection.bulk_write(operations, ordered=True)
        except BulkWriteError as exc:  # a concurrent upsert of the same iteration
            if _only_duplicates(exc):
                raise _Stale() from None
            raise MongoStoreError(
                f"MongoDB refused stats of run {run!r}: {one_line(exc.details)}"
            ) from None

    # --- outages ------------------------------------------------------------------------------
    def _store_or_buffer(
        self, key: tuple[str, str], value, store: Callable, copy: Callable
    ) -> None:
        kind, run = key
        what = f"storing the {kind.replace('_', ' ')} of run {run!r}"
        outage = self._outage
        self._pending.pop(key, None)  # superseded: the caller passes all its stats each time
        try:
            if outage:  # one quick attempt per call: training goes on while the server is away
                self._flush(retry=False)
            self._mongo.call(what, lambda: store(value), retry=not outage)
        except MongoUnavailableError as exc:
            self._pending[key] = copy(value)
            if not self._outage:
                self._outage = True
                logger.warning(
                    "%s; keeping the stats in memory and writing them when the server is back", exc
                )
            return
        self._back()

    def flush(self) -> None:
        """Write the stats buffered during an outage; ``MongoUnavailableError`` if the server is
        still unreachable (they stay buffered). Call it before exiting after an outage (exit
        tries once too)."""
        with self._lock:
            self._flush(retry=True)
            self._back()

    @property
    def pending(self) -> dict[tuple[str, str], int]:
        """``{(kind, run): number of iterations}`` buffered while the server is unreachable."""
        with self._lock:
            return {
                key: len(v.iteration_stats if isinstance(v, TrainingStats) else v)
                for key, v in self._pending.items()
            }

    def _flush(self, retry: bool) -> None:
        for key in list(self._pending):
            kind, run = key
            value = self._pending[key]
            store = self._store_training if kind == TRAINING else self._store_validation
            self._mongo.call(
                f"writing the buffered {kind.replace('_', ' ')} of run {run!r}",
                lambda: store(run, value),
                retry=retry,
            )
            del self._pending[key]

    def _back(self) -> None:
        if self._outage and not self._pending:
            self._outage = False
            logger.warning(
                "MongoDB at %s is reachable again: buffered stats written", self._mongo.host
            )


_stores: "weakref.WeakSet[MongoStatsStore]" = weakref.WeakSet()


@atexit.register
def _flush_at_exit() -> None:
    for store in list(_stores):
        if not store._pending:
            continue
        try:
            with store._lock:
                store._flush(retry=False)
        except Exception as exc:  # noqa: BLE001 - exiting: report, never raise
            lost = ", ".join(f"{kind} of run {run!r}" for kind, run in store._pending)
            logger.error("could not write buffered %s to %s at exit: %s", lost, store, exc)
