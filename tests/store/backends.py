"""The config and stats store backends under test: ``files`` and ``mongo`` (a real MongoDB
wire-protocol server, see ``mongo_server`` in tests/conftest.py).

``Backend.config_store()`` / ``stats_store()`` open a store on the test's storage (a second call
opens another instance on the same data, as another process would); ``counter`` counts what the
stores of the backend read and write."""

from __future__ import annotations

import os
import threading

import pytest
from pymongo import monitoring

from dacapo.store import file_stats_store
from dacapo.store.file_config_store import FileConfigStore
from dacapo.store.file_stats_store import FileStatsStore

BACKENDS = ["files", "mongo"]
MONGO_TIMEOUT = 2.0  # seconds: a test against a dead server fails fast


class MongoCounter(monitoring.CommandListener):
    """Commands the stores send: ``records_written`` (documents inserted or upserted),
    ``rewrites`` (update/delete commands), ``reads`` (full reads: finds tagged ``dacapo:load``),
    ``checks`` (the O(1) cursor checks), ``documents_read`` (by finds), ``commands`` (all, by
    name)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.records_written = self.rewrites = self.reads = self.checks = self.documents_read = 0
        self.commands: list[tuple[str, dict]] = []

    def started(self, event):
        name, command = event.command_name, event.command
        if name in ("hello", "isMaster", "ismaster", "ping", "endSessions", "createIndexes"):
            return
        with self.lock:
            self.commands.append((name, command))
            if name == "insert":
                self.records_written += len(command.get("documents", []))
            elif name == "update":
                self.rewrites += 1
                self.records_written += len(command.get("updates", []))
            elif name == "delete":
                self.rewrites += 1
            elif name == "find":
                comment = command.get("comment")
                self.reads += comment == "dacapo:load"
                self.checks += comment == "dacapo:check"

    def succeeded(self, event):
        if event.command_name in ("find", "getMore"):
            cursor = event.reply.get("cursor", {})
            batch = cursor.get("firstBatch", cursor.get("nextBatch", []))
            with self.lock:
                self.documents_read += len(batch)

    def failed(self, event):
        pass


class FileCounter:
    """What file stores write: ``records_written`` (lines through os.write), ``rewrites``
    (os.replace), ``reads`` (whole-file reads)."""

    def __init__(self, monkeypatch):
        self.records_written = self.rewrites = self.reads = 0
        write, replace, read = os.write, os.replace, file_stats_store._read

        def counting_write(fd, data):
            self.records_written += bytes(data).count(b"\n")
            return write(fd, data)

        def counting_replace(*args, **kwargs):
            self.rewrites += 1
            return replace(*args, **kwargs)

        def counting_read(*args, **kwargs):
            self.reads += 1
            return read(*args, **kwargs)

        monkeypatch.setattr(os, "write", counting_write)
        monkeypatch.setattr(os, "replace", counting_replace)
        monkeypatch.setattr(file_stats_store, "_read", counting_read)

    def reset(self):
        self.records_written = self.rewrites = self.reads = 0


class Backend:
    def __init__(self, name, request, tmp_path):
        self.name = name
        self.tmp_path = tmp_path
        self._request = request
        self._mongo_counter = None
        self._pid = os.getpid()
        if name == "mongo":
            self.uri, self.db_name = request.getfixturevalue("mongo_db")

    def __repr__(self):
        return f"Backend({self.name!r})"

    def config_store(self, **kwargs):
        if self.name == "files":
            return FileConfigStore(self.tmp_path / "configs")
        from dacapo.store.mongo_config_store import MongoConfigStore

        kwargs.setdefault("timeout", MONGO_TIMEOUT)
        kwargs.setdefault("event_listeners", [self.mongo_counter])
        store = MongoConfigStore(self.uri, self.db_name, **kwargs)
        if os.getpid() == self._pid:  # not in a forked worker
            self._request.addfinalizer(store.close)
        return store

    def stats_store(self, **kwargs):
        if self.name == "files":
            return FileStatsStore(self.tmp_path / "stats")
        from dacapo.store.mongo_stats_store import MongoStatsStore

        kwargs.setdefault("timeout", MONGO_TIMEOUT)
        kwargs.setdefault("event_listeners", [self.mongo_counter])
        store = MongoStatsStore(self.uri, self.db_name, **kwargs)
        self._request.addfinalizer(store.close)
        return store

    @property
    def mongo_counter(self):
        if self._mongo_counter is None:
            self._mongo_counter = MongoCounter()
        return self._mongo_counter

    def counter(self):
        """A counter, reset now, of what this backend's stores read and write from now on."""
        if self.name == "files":
            return FileCounter(self._request.getfixturevalue("monkeypatch"))
        self.mongo_counter.reset()
        return self.mongo_counter

    def database(self):
        """The MongoDB database of the test (``mongo`` only)."""
        import pymongo

        client = pymongo.MongoClient(self.uri, serverSelectionTimeoutMS=2000)
        self._request.addfinalizer(client.close)
        return client[self.db_name]


@pytest.fixture(params=BACKENDS)
def backend(request, tmp_path):
    return Backend(request.param, request, tmp_path)
