import pytest
from options_isolation import isolate_options

from dacapo.options import Options


@pytest.fixture
def options(tmp_path, monkeypatch):
    """Options pointing every store at a fresh ``runs_base_dir`` (``type: files``); no user
    ``dacapo.yaml`` (explicit, ``./`` or ``~/``) can leak in."""
    isolate_options(monkeypatch, tmp_path)
    return Options.instance()


# --- MongoDB: a real wire-protocol server (SecantusDB) in this process --------------------------
class MongoTestServer:
    """A SecantusDB server on a free port of 127.0.0.1, storing under ``path``. ``stop()`` then
    ``start()`` serve the same data on the same port (an outage and its end)."""

    def __init__(self, path):
        self.path = path
        self.port = 0  # 0: a free port, chosen at the first start
        self.server = None

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    def start(self) -> None:
        from secantus import SecantusDBServer

        # standalone (no replica set): no oplog writes, and clients connect directly
        self.server = SecantusDBServer(
            host="127.0.0.1",
            port=self.port,
            storage_path=str(self.path),
            replica_set_name=None,
            cache_size="100M",
        )
        self.server.start()
        self.port = self.server.port

    def stop(self) -> None:
        import contextlib
        import socket

        server, self.server = self.server, None
        if server is None:
            return
        # Closing a listening socket does not wake a thread blocked in accept(); shutting it down
        # does, so the port is free at once (and stop() does not wait 2 s for that thread).
        listening = getattr(server, "_socket", None)
        if listening is not None:
            with contextlib.suppress(OSError):
                listening.shutdown(socket.SHUT_RDWR)
        server.stop()


@pytest.fixture(scope="session")
def mongo_server(tmp_path_factory):
    """One MongoDB wire-protocol server for the whole session (tests use their own database)."""
    pytest.importorskip("secantus", reason="SecantusDB (the test extra) runs the MongoDB tests")
    server = MongoTestServer(tmp_path_factory.mktemp("secantus"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def own_mongo_server(tmp_path):
    """A started server of the test's own, which the test may ``stop()`` and ``start()`` again
    (same port, same data): an outage."""
    pytest.importorskip("secantus", reason="SecantusDB (the test extra) runs the MongoDB tests")
    server = MongoTestServer(tmp_path / "secantus")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mongo_db(mongo_server):
    """``(uri, database name)``: a fresh, empty database of the session's server, dropped after."""
    import uuid

    import pymongo

    name = f"dacapo_test_{uuid.uuid4().hex[:12]}"
    yield mongo_server.uri, name
    client = pymongo.MongoClient(mongo_server.uri, serverSelectionTimeoutMS=2000)
    try:
        client.drop_database(name)
    except pymongo.errors.PyMongoError:
        pass  # the test stopped the server: nothing to drop
    finally:
        client.close()
