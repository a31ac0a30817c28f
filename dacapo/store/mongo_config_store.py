"""Configs in MongoDB: one collection per kind (``runs``, ``tasks``, ``architectures``,
``trainers``, ``datasplits``, ``datasets``, ``arrays``), one document per config (the unstructured
config, as in the YAML files), a unique index on ``name``.

Of concurrent inserts of a name exactly one wins: the insert relies on the unique index (the
loser gets ``DuplicateKeyError`` and compares with the winner's document: no-op if identical,
``DuplicateNameError`` otherwise). There is no read-then-write window. The run collection also
indexes the names of a run's parts, which ``retrieve_run_config_names`` filters on."""

from __future__ import annotations

import threading
from typing import Collection, Mapping, Optional

from ._mongo import (
    DEFAULT_BACKOFF,
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    MongoConnection,
    MongoStoreError,
)
from .config_store import RUN_PARTS, ConfigStore

NAME_INDEX = "name"  # the index name of the original DaCapo


class MongoConfigStore(ConfigStore):
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
        self._indexed: set[str] = set()
        self._index_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"MongoConfigStore({self._mongo.host!r}, {self.db_name!r})"

    __str__ = __repr__

    def close(self) -> None:
        """Release the client if the store has its own (``client_options`` given)."""
        self._mongo.close()

    @property
    def db(self):
        return self._mongo.db

    # --- collections and indexes --------------------------------------------------------------
    def _collection(self, kind: str):
        """The collection of ``kind``, indexed before its first use (call inside ``_call``)."""
        collection = self._mongo.db[f"{kind}s"]
        if kind not in self._indexed:
            with self._index_lock:
                if kind not in self._indexed:
                    self._index(kind, collection)
                    self._indexed.add(kind)
        return collection

    def _call(self, what: str, kind: str, operation):
        return self._mongo.call(what, lambda: operation(self._collection(kind)))

    def _index(self, kind: str, collection) -> None:
        from pymongo.errors import OperationFailure

        try:
            collection.create_index([("name", 1)], name=NAME_INDEX, unique=True)
        except OperationFailure as exc:
            # An equivalent index under another name (an older database) is fine.
            if exc.code not in (85, 86) or not self._has_unique_name_index(collection):
                raise
        if kind == "run":
            for field in RUN_PARTS.values():
                collection.create_index([(f"{field}.name", 1)])

    @staticmethod
    def _has_unique_name_index(collection) -> bool:
        return any(
            info.get("unique") and list(info["key"]) == [("name", 1)]
            for info in collection.index_information().values()
        )

    # --- backend primitives -------------------------------------------------------------------
    def _insert(self, kind: str, name: str, document: dict) -> Optional[dict]:
        from pymongo.errors import DuplicateKeyError

        for _ in range(5):
            try:
                # a copy: insert_one adds "_id" to the document it is given
                self._call(
                    f"storing {kind} config {name!r}", kind, lambda c: c.insert_one(dict(document))
                )
                return None
            except DuplicateKeyError:
                existing = self._find(kind, name)
                if existing is not None:
                    return existing
                # deleted between our insert and our read: try again
        raise MongoStoreError(
            f"{kind} config {name!r} in {self} is being stored and deleted concurrently; try again"
        )

    def _find(self, kind: str, name: str) -> Optional[dict]:
        return self._call(
            f"reading {kind} config {name!r}", kind,
            lambda c: c.find_one({"name": name}, {"_id": 0}),
        )

    def _remove(self, kind: str, name: str) -> bool:
        result = self._call(
            f"deleting {kind} config {name!r}", kind, lambda c: c.delete_one({"name": name})
        )
        return result.deleted_count > 0

    def _names(self, kind: str, where: Mapping[str, Collection[str]]) -> list[str]:
        query = {key: {"$in": list(values)} for key, values in where.items()}
        return self._call(
            f"listing {kind} configs", kind,
            lambda c: [d["name"] for d in c.find(query, {"name": 1, "_id": 0}) if "name" in d],
        )
