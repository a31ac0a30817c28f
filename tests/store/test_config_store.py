import errno
import multiprocessing
import os
import sys
import types

import pytest

from dacapo.config import ConfigError
from dacapo.experiments import RunConfig
from dacapo.experiments.architectures import ArchitectureConfig
from dacapo.experiments.datasplits import DataSplitConfig
from dacapo.experiments.datasplits.datasets import DatasetConfig
from dacapo.experiments.datasplits.datasets.arrays import ArrayConfig
from dacapo.experiments.starts import StartConfig
from dacapo.experiments.tasks import TaskConfig
from dacapo.experiments.trainers import TrainerConfig
from dacapo.store.config_store import KINDS, ConfigNotFoundError, ConfigStore, DuplicateNameError
from dacapo.store.create_store import create_config_store
from dacapo.store.file_config_store import FileConfigStore

from .backends import Backend, backend  # noqa: F401 (fixture)

CONFIGS = {
    "task": TaskConfig("task"),
    "architecture": ArchitectureConfig("arch"),
    "trainer": TrainerConfig("trainer", batch_size=2),
    "datasplit": DataSplitConfig("split"),
    "dataset": DatasetConfig("dataset", weight=3),
    "array": ArrayConfig("array"),
}


def run_config(name="run", task=None, trainer=None, **kwargs):
    return RunConfig(
        task_config=task or CONFIGS["task"],
        architecture_config=CONFIGS["architecture"],
        trainer_config=trainer or CONFIGS["trainer"],
        datasplit_config=CONFIGS["datasplit"],
        name=name,
        **kwargs,
    )


@pytest.fixture
def store(backend):
    """A config store of each backend (files, mongo)."""
    return backend.config_store()


@pytest.fixture
def file_store(tmp_path):
    return FileConfigStore(tmp_path / "configs")


def contents(store, kind):
    """What the backend holds for ``kind``: file names (files) or documents' names (mongo)."""
    if isinstance(store, FileConfigStore):
        directory = store.path / f"{kind}s"
        return sorted(p.name for p in directory.iterdir()) if directory.is_dir() else []
    return sorted(d["name"] for d in store.db[f"{kind}s"].find({}, {"name": 1}))


def stamp(store, kind, name):
    """Changes when the stored config is rewritten."""
    if isinstance(store, FileConfigStore):
        st = os.stat(store.path / f"{kind}s" / f"{name}.yaml")
        return st.st_ino, st.st_mtime_ns
    return [d["_id"] for d in store.db[f"{kind}s"].find({"name": name}, {"_id": 1})]


def test_original_method_names_exist_for_every_kind():
    for kind in KINDS:
        for method in (f"store_{kind}_config", f"retrieve_{kind}_config",
                       f"delete_{kind}_config", f"retrieve_{kind}_config_names"):
            assert callable(getattr(ConfigStore, method)), method
            assert getattr(ConfigStore, method).__name__ == method


@pytest.mark.parametrize("kind", sorted(CONFIGS))
def test_store_retrieve_delete_each_kind(store, kind):
    config = CONFIGS[kind]
    getattr(store, f"store_{kind}_config")(config)
    assert getattr(store, f"retrieve_{kind}_config")(config.name) == config
    assert getattr(store, f"retrieve_{kind}_config_names")() == [config.name]
    expected = f"{config.name}.yaml" if isinstance(store, FileConfigStore) else config.name
    assert contents(store, kind) == [expected]
    getattr(store, f"delete_{kind}_config")(config.name)
    assert getattr(store, f"retrieve_{kind}_config_names")() == []
    with pytest.raises(ConfigNotFoundError):
        getattr(store, f"retrieve_{kind}_config")(config.name)


def test_run_is_self_contained_and_stores_its_parts(store):
    run = run_config(start_config=StartConfig("other", "best"), num_iterations=10)
    store.store_run_config(run)
    assert store.retrieve_run_config("run") == run
    assert store.retrieve_task_config("task") == run.task_config
    assert store.retrieve_architecture_config("arch") == run.architecture_config
    assert store.retrieve_trainer_config("trainer") == run.trainer_config
    assert store.retrieve_datasplit_config("split") == run.datasplit_config
    # the run document does not depend on the part files
    store.delete_task_config("task")
    assert store.retrieve_run_config("run").task_config == CONFIGS["task"]


def test_run_names_filtered_by_parts(store):
    store.store_run_config(run_config("a"))
    store.store_run_config(run_config("b", task=TaskConfig("task2")))
    store.store_run_config(run_config("c", task=TaskConfig("task2"), trainer=TrainerConfig("t2")))
    assert store.retrieve_run_config_names() == ["a", "b", "c"]
    assert store.retrieve_run_config_names(task_names=["task2"]) == ["b", "c"]
    assert store.retrieve_run_config_names(["task2"], trainer_names=["trainer"]) == ["b"]
    assert store.retrieve_run_config_names(datasplit_names=["split"], architecture_names=["x"]) == []
    with pytest.raises(TypeError):
        store.names("task", task_names=["x"])


def test_identical_store_is_a_no_op(store):
    store.store_trainer_config(CONFIGS["trainer"])
    before = stamp(store, "trainer", "trainer")
    store.store_trainer_config(TrainerConfig("trainer", batch_size=2))
    store.store_run_config(run_config())
    store.store_run_config(run_config())
    assert stamp(store, "trainer", "trainer") == before
    # one config, no temp left
    assert contents(store, "trainer") in (["trainer.yaml"], ["trainer"])


def test_different_content_is_a_duplicate(store):
    store.store_trainer_config(CONFIGS["trainer"])
    with pytest.raises(DuplicateNameError, match="trainer config named 'trainer'"):
        store.store_trainer_config(TrainerConfig("trainer", batch_size=3))
    assert store.retrieve_trainer_config("trainer") == CONFIGS["trainer"]
    store.store_run_config(run_config())
    with pytest.raises(DuplicateNameError, match="run config named 'run'"):
        store.store_run_config(run_config(num_iterations=5))


def test_run_with_a_conflicting_part_stores_nothing(store):
    store.store_trainer_config(TrainerConfig("trainer", batch_size=7))
    with pytest.raises(DuplicateNameError, match="trainer config named 'trainer'"):
        store.store_run_config(run_config())
    assert store.retrieve_run_config_names() == []
    assert store.retrieve_task_config_names() == []


def test_same_name_in_different_kinds_is_fine(store):
    store.store_task_config(TaskConfig("x"))
    store.store_trainer_config(TrainerConfig("x"))
    assert store.retrieve_task_config("x") == TaskConfig("x")


def test_store_checks_the_kind(store):
    with pytest.raises(TypeError, match="expects a TaskConfig"):
        store.store_task_config(TrainerConfig("t"))
    with pytest.raises(ValueError, match="unknown config kind"):
        store.store("model", TaskConfig("t"))


@pytest.mark.parametrize("name", ["../x", "..", "a/b", "/abs", "", ".hidden", "a\\b", "a b", None])
def test_invalid_names_are_refused(store, tmp_path, name):
    with pytest.raises(ConfigError, match="name"):
        store.store_task_config(TaskConfig(name))
    with pytest.raises(ConfigError):
        store.retrieve_task_config(name)
    with pytest.raises(ConfigError):
        store.delete_task_config(name)
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written == []
    assert contents(store, "task") == []


def test_too_long_name_is_refused_clearly(store):
    if isinstance(store, FileConfigStore):  # <name>.yaml must fit in 255 bytes
        with pytest.raises(ConfigError, match="longer than"):
            store.store_task_config(TaskConfig("x" * 251))
        store.store_task_config(TaskConfig("x" * 250))
    else:
        store.store_task_config(TaskConfig("x" * 255))
        assert store.retrieve_task_config("x" * 255) == TaskConfig("x" * 255)
    with pytest.raises(ConfigError, match="at most 255"):
        store.store_task_config(TaskConfig("x" * 256))


def test_not_found_is_a_one_line_key_error(store):
    with pytest.raises(KeyError) as info:
        store.retrieve_run_config("missing")
    assert isinstance(info.value, ConfigNotFoundError) and isinstance(info.value, ConfigError)
    message = str(info.value)
    assert "run config named 'missing'" in message and "\n" not in message
    with pytest.raises(ConfigNotFoundError, match="task config named 'missing'"):
        store.delete_task_config("missing")


def test_crash_leftovers_are_ignored(file_store):
    file_store.store_task_config(TaskConfig("t"))
    (file_store.path / "tasks" / ".tmp-0123456789abcdef").write_text("__type__: Task")  # torn temp
    (file_store.path / "tasks" / "notes.txt").write_text("x")
    assert file_store.retrieve_task_config_names() == ["t"]
    assert file_store.retrieve_task_config("t") == TaskConfig("t")


def test_malformed_file_gives_a_clear_error(file_store):
    (file_store.path / "tasks").mkdir(parents=True)
    (file_store.path / "tasks" / "bad.yaml").write_text("name: [unclosed\n")
    with pytest.raises(ConfigError, match="bad.yaml: malformed YAML"):
        file_store.retrieve_task_config("bad")


def test_works_without_hard_links(file_store, monkeypatch):
    def no_link(src, dst):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_link)
    file_store.store_task_config(TaskConfig("t"))
    file_store.store_task_config(TaskConfig("t"))
    file_store.store_trainer_config(TrainerConfig("trainer", batch_size=5))
    with pytest.raises(DuplicateNameError):
        file_store.store_trainer_config(TrainerConfig("trainer", batch_size=6))
    assert file_store.retrieve_task_config("t") == TaskConfig("t")
    assert sorted(p.name for p in (file_store.path / "tasks").iterdir()) == ["t.yaml"]


def _race(open_store, worker, names, identical, barrier, results):
    store = open_store()
    for name in names:
        barrier.wait()
        config = TrainerConfig(name, batch_size=1 if identical else worker + 1)
        try:
            store.store_trainer_config(config)
            results.put((name, worker, "stored"))
        except DuplicateNameError:
            results.put((name, worker, "duplicate"))


@pytest.mark.parametrize("identical", [True, False])
def test_concurrent_store_of_one_name(backend, identical):
    context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    names = [f"n{i}" for i in range(15)]
    barrier, results = context.Barrier(2), context.Queue()
    workers = [
        context.Process(
            target=_race, args=(backend.config_store, w, names, identical, barrier, results)
        )
        for w in range(2)
    ]
    for w in workers:
        w.start()
    outcomes = {}
    for _ in range(2 * len(names)):
        name, worker, outcome = results.get(timeout=30)
        outcomes.setdefault(name, {})[worker] = outcome
    for w in workers:
        w.join(timeout=30)
        assert w.exitcode == 0
    store = backend.config_store()
    assert store.retrieve_trainer_config_names() == sorted(names)
    assert contents(store, "trainer") in (sorted(f"{n}.yaml" for n in names), sorted(names))
    for name in names:
        stored = store.retrieve_trainer_config(name)
        if identical:
            assert outcomes[name] == {0: "stored", 1: "stored"}
        else:
            assert sorted(outcomes[name].values()) == ["duplicate", "stored"]
            winner = next(w for w, o in outcomes[name].items() if o == "stored")
            assert stored.batch_size == winner + 1


def test_create_config_store_uses_the_options(options):
    store = create_config_store()
    assert isinstance(store, FileConfigStore)
    assert store.path == options.runs_base_dir / "configs"
    store.store_task_config(TaskConfig("t"))
    assert (options.runs_base_dir / "configs" / "tasks" / "t.yaml").is_file()


def test_create_config_store_mongo_backend_is_lazy(options, monkeypatch):
    created = []
    fake = types.ModuleType("dacapo.store.mongo_config_store")
    fake.MongoConfigStore = lambda host, name: created.append((host, name)) or "mongo"
    monkeypatch.setitem(sys.modules, "dacapo.store.mongo_config_store", fake)
    monkeypatch.setenv("DACAPO_TYPE", "mongo")
    monkeypatch.setenv("DACAPO_MONGODBHOST", "mongodb://localhost:1/")
    monkeypatch.setenv("DACAPO_MONGODBNAME", "db")
    assert create_config_store() == "mongo"
    assert created == [("mongodb://localhost:1/", "db")]
