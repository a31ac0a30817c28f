import pytest

from dacapo.config import ConfigError
from dacapo.store.array_store import LocalArrayIdentifier, LocalContainerIdentifier
from dacapo.store.create_store import create_array_store
from dacapo.store.local_array_store import LocalArrayStore

from .helpers import Dataset, Parameters


@pytest.fixture
def store(tmp_path):
    return LocalArrayStore(tmp_path)


def test_layout(store, tmp_path):
    validation = tmp_path / "run" / "validation.zarr"
    assert store.validation_container("run") == LocalContainerIdentifier(validation)
    assert store.snapshot_container("run").container == tmp_path / "run" / "snapshot.zarr"
    assert store.validation_prediction_array("run", 100, Dataset("crop1")) == LocalArrayIdentifier(
        validation, "100/crop1/prediction"
    )
    assert store.validation_prediction_array("run", 100, "crop1").path == validation / "100/crop1/prediction"
    output = store.validation_output_array("run", 100, Parameters(3, 0.5), "crop1")
    assert output.container == validation
    assert output.dataset == "100/crop1/output/Parameters_id=3_threshold=0.5"
    assert store.validation_output_array("run", 1, "threshold_0.5", "c").dataset == "1/c/output/threshold_0.5"
    assert store.validation_input_arrays("run", "crop1") == (
        LocalArrayIdentifier(validation, "inputs/crop1/raw"),
        LocalArrayIdentifier(validation, "inputs/crop1/gt"),
    )
    assert store.validation_input_arrays("run")[0].dataset == "inputs/raw"
    assert store.best_validation_array("run", "dice", "crop1").dataset == "crop1_dice"


def test_parameters_never_escape(store):
    for parameters in ("../../x", "a/b", "..", "/", ""):
        dataset = store.validation_output_array("run", 1, parameters, "c").dataset
        component = dataset.split("/")[-1]
        assert dataset.startswith("1/c/output/") and component not in ("", "..", ".")
        assert "/" not in component and ".." not in component


@pytest.mark.parametrize("name", ["../x", "a/b", "/abs", ""])
def test_invalid_names(store, name):
    with pytest.raises(ConfigError):
        store.validation_container(name)
    with pytest.raises(ConfigError):
        store.validation_prediction_array("run", 1, name)


def test_remove(store, tmp_path):
    array = store.validation_prediction_array("run", 1, "c")
    (array.path / "0").mkdir(parents=True)
    (array.path / ".zarray").write_text("{}")
    other = store.validation_prediction_array("run", 2, "c")
    other.path.mkdir(parents=True)
    store.remove(array)
    store.remove(array)  # absent: fine
    assert not array.path.exists() and other.path.exists()
    store.remove(store.validation_container("run"))
    assert not (tmp_path / "run" / "validation.zarr").exists()
    with pytest.raises(ValueError, match="not inside"):
        store.remove(LocalArrayIdentifier(tmp_path / "run" / "validation.zarr", "../../.."))


def test_create_array_store(options):
    store = create_array_store()
    assert isinstance(store, LocalArrayStore) and store.path == options.runs_base_dir
