"""MongoDB-only guarantees of the config and stats stores, against a real wire-protocol server
(SecantusDB, see tests/conftest.py): indexes, O(1) appends, retries, redacted credentials, clear
errors for an unreachable server, stats buffered through an outage."""

import logging
import time

import numpy as np
import pytest

from dacapo.experiments import TrainingIterationStats, ValidationIterationScores
from dacapo.experiments.tasks import TaskConfig
from dacapo.experiments.trainers import TrainerConfig
from dacapo.store._mongo import MongoStoreError, MongoUnavailableError, redact
from dacapo.store.config_store import KINDS, DuplicateNameError
from dacapo.store.create_store import create_config_store, create_stats_store

from .backends import Backend, MongoCounter
from .helpers import DATASETS, PARAMETERS, Scores, training_stats

pytest.importorskip("secantus", reason="SecantusDB (the test extra) runs the MongoDB tests")

PASSWORD = "s3cr3t-Pa55"
USER = "dacapo_user"


@pytest.fixture(autouse=True)
def fast_rediscovery(monkeypatch):
    """The driver re-checks a server it lost every 0.5 s; 0.05 s keeps these tests short."""
    import pymongo.common

    monkeypatch.setattr(pymongo.common, "MIN_HEARTBEAT_INTERVAL", 0.05)


@pytest.fixture
def mongo(request, tmp_path):
    return Backend("mongo", request, tmp_path)


def dead_uri(with_credentials=True):
    """A URI on which nothing listens (port 1 of the loopback)."""
    credentials = f"{USER}:{PASSWORD}@" if with_credentials else ""
    return f"mongodb://{credentials}127.0.0.1:1/"


def validation_scores(iterations):
    from dacapo.experiments import ValidationScores

    scores = ValidationScores(PARAMETERS, DATASETS, Scores())
    for iteration in iterations:
        scores.add_iteration_scores(ValidationIterationScores(iteration, np.full((2, 3, 2), 0.5)))
    return scores


# --- layout and indexes -------------------------------------------------------------------------
def test_one_collection_per_kind_with_a_unique_name_index(mongo):
    from dacapo.store.mongo_config_store import MongoConfigStore

    store = mongo.config_store()
    for kind in KINDS:
        store.names(kind)  # the first use of a kind creates its indexes
    db = mongo.database()
    for kind in KINDS:
        indexes = db[f"{kind}s"].index_information()
        assert any(
            info.get("unique") and list(info["key"]) == [("name", 1)] for info in indexes.values()
        ), (kind, indexes)
    run_keys = [list(info["key"]) for info in db["runs"].index_information().values()]
    for field in ("task_config", "architecture_config", "trainer_config", "datasplit_config"):
        assert [(f"{field}.name", 1)] in run_keys
    # a second store (another process) finds the indexes in place
    MongoConfigStore(mongo.uri, mongo.db_name, timeout=2).retrieve_task_config_names()


def test_documents_are_the_unstructured_configs(mongo):
    store = mongo.config_store()
    store.store_trainer_config(TrainerConfig("t", batch_size=4))
    document = mongo.database()["trainers"].find_one({"name": "t"}, {"_id": 0})
    assert document == {"__type__": "TrainerConfig", "name": "t", "batch_size": 4,
                        "learning_rate": 0.0001}


def test_stats_collections_have_a_unique_run_iteration_index(mongo):
    store = mongo.stats_store()
    store.store_training_stats("run", training_stats(3))
    db = mongo.database()
    for collection in ("training_stats", "validation_scores"):
        indexes = db[collection].index_information().values()
        assert any(
            info.get("unique") and list(info["key"]) == [("run", 1), ("iteration", 1)]
            for info in indexes
        ), collection
    documents = list(db["training_stats"].find({}, {"_id": 0}).sort("iteration", 1))
    assert documents[0] == {"run": "run", "iteration": 0, "loss": 1.0, "time": 0.5}
    assert len(documents) == 3


def test_the_unique_index_decides_concurrent_inserts(mongo):
    """The loser of a race finds the winner's document through DuplicateKeyError: no window
    between a read and a write (the loser's read is skipped here by inserting directly)."""
    first, second = mongo.config_store(), mongo.config_store()
    assert first._insert("task", "x", {"__type__": "TaskConfig", "name": "x"}) is None
    existing = second._insert("task", "x", {"__type__": "TaskConfig", "name": "x", "other": 1})
    assert existing == {"__type__": "TaskConfig", "name": "x"}
    assert mongo.database()["tasks"].count_documents({"name": "x"}) == 1


def test_run_filters_use_the_indexes(mongo):
    from dacapo.experiments import RunConfig
    from dacapo.experiments.architectures import ArchitectureConfig
    from dacapo.experiments.datasplits import DataSplitConfig

    store = mongo.config_store()
    for name, task in (("a", "t1"), ("b", "t2")):
        store.store_run_config(RunConfig(
            task_config=TaskConfig(task), architecture_config=ArchitectureConfig("arch"),
            trainer_config=TrainerConfig("trainer"), datasplit_config=DataSplitConfig("split"),
            name=name,
        ))
    assert store.retrieve_run_config_names(task_names=["t2"]) == ["b"]
    plan = mongo.database()["runs"].find({"task_config.name": {"$in": ["t2"]}}).explain()
    assert "IXSCAN" in str(plan["queryPlanner"]["winningPlan"])


# --- O(1) appends -----------------------------------------------------------------------------
def test_appending_an_iteration_touches_one_document(mongo):
    store = mongo.stats_store()
    stats = training_stats(1000)
    store.store_training_stats("run", stats)
    counter = mongo.counter()
    for i in range(1000, 1010):
        stats.add_iteration_stats(TrainingIterationStats(i, 0.5, 0.25))
        store.store_training_stats("run", stats)
    names = [name for name, _ in counter.commands]
    assert names == ["find", "insert"] * 10  # one O(1) check, one insert of one document
    assert counter.records_written == 10 and counter.checks == 10 and counter.reads == 0
    assert counter.documents_read == 10  # each check reads back the last stored record only
    inserts = [command for name, command in counter.commands if name == "insert"]
    assert [len(c["documents"]) for c in inserts] == [1] * 10
    store.store_training_stats("run", stats)  # nothing new: one check, no write
    assert counter.records_written == 10


def test_cost_of_an_append_does_not_grow_with_the_run(mongo):
    store = mongo.stats_store()
    stats = training_stats(20)
    store.store_training_stats("run", stats)

    def append_time(n):
        started = time.perf_counter()
        for _ in range(n):
            i = stats.trained_until()
            stats.add_iteration_stats(TrainingIterationStats(i, 0.5, 0.25))
            store.store_training_stats("run", stats)
        return (time.perf_counter() - started) / n

    early = append_time(20)
    store.store_training_stats("run", training_stats(2000))  # a long run (a rewrite)
    stats = training_stats(2000)
    late = append_time(20)
    assert late < 5 * early + 0.02, (early, late)


def test_a_rollback_touches_only_what_differs(mongo):
    store = mongo.stats_store()
    stats = training_stats(100)
    store.store_training_stats("run", stats)
    stats.delete_after(90)
    counter = mongo.counter()
    store.store_training_stats("run", stats)
    deletes = [command for name, command in counter.commands if name == "delete"]
    assert len(deletes) == 1 and counter.records_written == 0  # one range delete, no upsert
    assert mongo.stats_store().retrieve_training_stats("run") == stats


# --- retries and errors -----------------------------------------------------------------------
def fail_next(database, command, times, **data):
    database.client.admin.command(
        "configureFailPoint", "failCommand",
        mode={"times": times},
        data={"failCommands": [command], "appName": "dacapo", **data},
    )


def test_transient_errors_are_retried(mongo):
    store = mongo.config_store(backoff=0.01)
    store.store_task_config(TaskConfig("first"))  # connected once
    fail_next(mongo.database(), "insert", 2, closeConnection=True)
    store.store_task_config(TaskConfig("t"))
    assert store.retrieve_task_config("t") == TaskConfig("t")
    assert mongo.database()["tasks"].count_documents({"name": "t"}) == 1


def test_transient_errors_give_up_after_the_retries(mongo):
    store = mongo.config_store(backoff=0.01, retries=1)
    store.store_task_config(TaskConfig("first"))
    fail_next(mongo.database(), "insert", 5, closeConnection=True)
    with pytest.raises(MongoUnavailableError, match="unreachable while storing task config 't'"):
        store.store_task_config(TaskConfig("t"))
    mongo.database().client.admin.command("configureFailPoint", "failCommand", mode="off")


def test_unreachable_server_is_one_clear_line_within_the_timeout():
    from dacapo.store.mongo_config_store import MongoConfigStore
    from dacapo.store.mongo_stats_store import MongoStatsStore

    store = MongoConfigStore(dead_uri(), "db", timeout=0.5)
    started = time.monotonic()
    with pytest.raises(MongoUnavailableError) as info:
        store.retrieve_task_config("t")
    assert time.monotonic() - started < 3
    message = str(info.value)
    assert "\n" not in message and len(message) < 600
    assert "mongodb://***@127.0.0.1:1/" in message and "database 'db'" in message
    assert "reading task config 't'" in message
    assert "check that the MongoDB server is running" in message
    assert PASSWORD not in message and USER not in message
    assert isinstance(info.value, OSError)  # the CLI prints it as one line
    assert info.value.__cause__ is None and info.value.__suppress_context__

    stats = MongoStatsStore(dead_uri(), "db", timeout=0.5)
    with pytest.raises(MongoUnavailableError, match="reading the training stats of run 'r'"):
        stats.retrieve_training_stats("r")


def test_credentials_are_never_shown(mongo_server, caplog):
    from dacapo.store.mongo_config_store import MongoConfigStore
    from dacapo.store.mongo_stats_store import MongoStatsStore

    caplog.set_level(logging.DEBUG)
    uri = f"mongodb://{USER}:{PASSWORD}@127.0.0.1:{mongo_server.port}/"
    store = MongoConfigStore(uri, "db", timeout=1)
    assert PASSWORD not in repr(store) and PASSWORD not in str(store)
    with pytest.raises(MongoStoreError) as info:  # the server knows no such user
        store.retrieve_task_config_names()
    message = str(info.value)
    assert "authentication failed" in message and "check the user, password" in message
    assert PASSWORD not in message and USER not in message and "\n" not in message
    assert f"***@127.0.0.1:{mongo_server.port}" in message

    stats = MongoStatsStore(dead_uri(), "db", timeout=0.3)
    stats.store_training_stats("run", training_stats(2))  # buffered, warned
    assert "unreachable" in caplog.text
    assert PASSWORD not in caplog.text and USER not in caplog.text


@pytest.mark.parametrize("uri, expected", [
    ("mongodb://u:p@h:27017/", "mongodb://***@h:27017/"),
    ("mongodb+srv://u:p%40x@cluster.example/db?retryWrites=true",
     "mongodb+srv://***@cluster.example/db?retryWrites=true"),
    ("mongodb://u:p@h1,h2:27018/?replicaSet=rs", "mongodb://***@h1,h2:27018/?replicaSet=rs"),
    ("mongodb://h/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:tok",
     "mongodb://h/?authMechanism=MONGODB-AWS&authMechanismProperties=***"),
    ("mongodb://localhost:27017", "mongodb://localhost:27017"),
    ("u:p@host", "***@host"),
])
def test_redact(uri, expected):
    assert redact(uri) == expected


def test_invalid_uri_is_a_clear_error():
    from dacapo.store.mongo_config_store import MongoConfigStore

    with pytest.raises(MongoStoreError, match="not a valid|rejected") as info:
        MongoConfigStore(f"mongodb://{USER}:{PASSWORD}@127.0.0.1:notaport/", "db")
    assert PASSWORD not in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(MongoStoreError, match="mongodbname"):
        MongoConfigStore("mongodb://127.0.0.1:1/", "")


def test_timeouts_in_the_uri_win(mongo_server):
    from dacapo.store.mongo_config_store import MongoConfigStore

    store = MongoConfigStore(f"{mongo_server.uri}?serverSelectionTimeoutMS=1234", "db", timeout=9)
    assert store._mongo.client.options.server_selection_timeout == 1.234
    options = MongoConfigStore(mongo_server.uri, "db", timeout=9)._mongo.client.options
    assert options.pool_options.connect_timeout == 9 and options.server_selection_timeout == 9


# --- outages ----------------------------------------------------------------------------------
@pytest.fixture
def own_server(own_mongo_server):
    return own_mongo_server


def test_an_outage_does_not_stop_training(own_server, caplog):
    from dacapo.store.mongo_stats_store import MongoStatsStore

    store = MongoStatsStore(own_server.uri, "db", timeout=0.15, retries=1, backoff=0.05)
    stats = training_stats(10)
    store.store_training_stats("run", stats)
    store.store_validation_iteration_scores("run", validation_scores([5]))

    own_server.stop()
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        for i in range(10, 30):
            stats.add_iteration_stats(TrainingIterationStats(i, 0.1, 0.1))
            if i % 5 == 4:
                store.store_training_stats("run", stats)  # does not raise
        scores = validation_scores([5])
        scores.scores = store.retrieve_validation_iteration_scores("run")  # from memory
        scores.add_iteration_scores(ValidationIterationScores(25, np.full((2, 3, 2), 0.7)))
        store.store_validation_iteration_scores("run", scores)
    outage_warnings = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(outage_warnings) == 1  # once per outage, not per store
    assert "\n" not in outage_warnings[0].getMessage()
    assert store.pending == {("training_stats", "run"): 30, ("validation_scores", "run"): 2}
    with pytest.raises(MongoUnavailableError):
        store.flush()

    own_server.start()  # the server is back, same port and data
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        stats.add_iteration_stats(TrainingIterationStats(30, 0.1, 0.1))
        store.store_training_stats("run", stats)
    assert "reachable again" in caplog.text
    assert store.pending == {}
    fresh = MongoStatsStore(own_server.uri, "db", timeout=2)
    assert fresh.retrieve_training_stats("run") == stats
    assert fresh.retrieve_validation_iteration_scores("run") == scores.scores

    own_server.stop()  # a second outage warns again
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        stats.add_iteration_stats(TrainingIterationStats(31, 0.1, 0.1))
        store.store_training_stats("run", stats)
    assert len([r for r in caplog.records if "unreachable" in r.getMessage()]) == 1
    own_server.start()
    store.flush()  # what a trainer does before exiting
    assert fresh.retrieve_training_stats("run") == stats


def test_an_outage_before_the_first_contact_buffers_too(own_server):
    from dacapo.store.mongo_stats_store import MongoStatsStore

    own_server.stop()
    store = MongoStatsStore(own_server.uri, "db", timeout=0.15)
    stats = training_stats(5)
    store.store_training_stats("run", stats)
    assert store.pending == {("training_stats", "run"): 5}
    own_server.start()
    assert store.retrieve_training_stats("run") == stats  # flushed first
    assert store.pending == {}


# --- options --------------------------------------------------------------------------------
def test_create_stores_from_the_options(options, monkeypatch, mongo_db):
    from dacapo.store.mongo_config_store import MongoConfigStore
    from dacapo.store.mongo_stats_store import MongoStatsStore

    uri, name = mongo_db
    monkeypatch.setenv("DACAPO_TYPE", "mongo")
    monkeypatch.setenv("DACAPO_MONGODBHOST", uri)
    monkeypatch.setenv("DACAPO_MONGODBNAME", name)
    config_store = create_config_store()
    assert isinstance(config_store, MongoConfigStore)
    config_store.store_trainer_config(TrainerConfig("t", batch_size=1))
    with pytest.raises(DuplicateNameError):
        create_config_store().store_trainer_config(TrainerConfig("t", batch_size=2))
    stats_store = create_stats_store()
    assert isinstance(stats_store, MongoStatsStore) and create_stats_store() is stats_store
    stats_store.store_training_stats("run", training_stats(3))
    assert create_stats_store().retrieve_training_stats("run") == training_stats(3)
    assert not (options.runs_base_dir / "configs").exists()


def test_counter_sees_only_the_stats_commands(mongo):
    """The command counter used by the shared tests counts what it claims to."""
    counter = MongoCounter()
    store = mongo.stats_store(event_listeners=[counter])
    store.store_training_stats("run", training_stats(4))
    assert counter.records_written == 4 and counter.rewrites == 0


def test_buffered_stats_are_written_at_exit(own_server, caplog):
    from dacapo.store import mongo_stats_store
    from dacapo.store.mongo_stats_store import MongoStatsStore

    store = MongoStatsStore(own_server.uri, "db", timeout=0.15, backoff=0.01)
    store.store_training_stats("run", training_stats(2))
    own_server.stop()
    store.store_training_stats("run", training_stats(4))
    with caplog.at_level(logging.ERROR):
        mongo_stats_store._flush_at_exit()  # still down: reported, not raised
    assert "could not write buffered training_stats of run 'run'" in caplog.text
    own_server.start()
    mongo_stats_store._flush_at_exit()
    assert store.pending == {}
    assert MongoStatsStore(own_server.uri, "db").retrieve_training_stats("run") == training_stats(4)
