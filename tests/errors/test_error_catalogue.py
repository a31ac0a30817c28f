"""The error catalogue (``docs/errors.md``): each bad input a user can give, hit the way a user
hits it (the ``dacapo`` CLI or the Python API), must give ONE line that names the config, field
and value and says the fix; no traceback."""

from __future__ import annotations

import socket
import time

import attrs
import pytest
import yaml
from click.testing import CliRunner

from dacapo.cli import cli
from dacapo.config import ConfigError
from dacapo.experiments.architectures import CNNectomeUNetConfig
from dacapo.experiments.datasplits.datasets.arrays import BinarizeArrayConfig, ZarrArrayConfig
from dacapo.experiments.tasks import DistanceTaskConfig
from dacapo.experiments.trainers import GunpowderTrainerConfig
from dacapo.options import Options
from dacapo.store.create_store import create_config_store

from e2e.helpers import small_run_config  # tests/ is on sys.path (rootdir-relative packages)


# --- helpers --------------------------------------------------------------------------------------
def cli_error(*args: str) -> str:
    """Run ``dacapo ARGS``; it must fail with exit code 1 and print exactly one line."""
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: ") and "Traceback" not in result.output
    return lines[0]


def one_line(text: str) -> str:
    assert "\n" not in text and "Traceback" not in text, text
    return text


def api_error(function, *args, **kwargs) -> str:
    with pytest.raises((ConfigError, ValueError, KeyError, ConnectionError)) as info:
        function(*args, **kwargs)
    return one_line(str(info.value))


@pytest.fixture(scope="module")
def written_run_config(tmp_path_factory):
    """The e2e helpers' small run; its data (64³ and 48³ cells, 8 nm) is written once."""
    return small_run_config(tmp_path_factory.mktemp("catalogue"))


@pytest.fixture
def run_config(written_run_config, options):
    return written_run_config


@pytest.fixture
def data_dir(written_run_config):
    raw = written_run_config.datasplit_config.train_configs[0].raw_config
    return raw.source_array_config.file_name.parent


def with_dataset_field(config, dataset_field: str, **changes):
    """``config`` with ``changes`` applied to the ``dataset_field`` of its first train dataset."""
    datasplit = config.datasplit_config
    train = datasplit.train_configs[0]
    train = attrs.evolve(train, **{dataset_field: attrs.evolve(getattr(train, dataset_field), **changes)})
    return attrs.evolve(config, datasplit_config=attrs.evolve(datasplit, train_configs=[train]))


def store(config) -> str:
    create_config_store().store_run_config(config)
    return config.name


# --- data ---------------------------------------------------------------------------------------
def test_missing_container(run_config, tmp_path):
    raw = run_config.datasplit_config.train_configs[0].raw_config
    config = with_dataset_field(
        attrs.evolve(run_config, name="missing_container"), "raw_config",
        source_array_config=attrs.evolve(raw.source_array_config, file_name=tmp_path / "nope.zarr"),
    )
    line = cli_error("train", "-r", store(config))
    assert "ZarrArrayConfig 'train_raw_uint8': file_name=" in line
    assert "nope.zarr does not exist" in line


def test_missing_dataset(data_dir):
    ok, message = ZarrArrayConfig(name="raw", file_name=data_dir / "train.zarr", dataset="rwa").verify()
    assert not ok
    one_line(message)
    assert "ZarrArrayConfig 'raw'" in message and "dataset='rwa' not found" in message
    assert "labels, raw" in message  # what is there instead


def test_gt_voxel_size_differs_from_the_output_voxel_size(run_config):
    gt = run_config.datasplit_config.train_configs[0].gt_config
    config = with_dataset_field(
        attrs.evolve(run_config, name="wrong_voxel_size"), "gt_config",
        source_array_config=attrs.evolve(gt.source_array_config, voxel_size=(4, 4, 4)),
    )
    line = cli_error("train", "-r", store(config))
    assert "gt voxel size (4, 4, 4) != model output voxel size (8, 8, 8)" in line
    assert "resample the gt" in line


def test_raw_and_gt_voxel_sizes_that_do_not_divide(run_config):
    gt = run_config.datasplit_config.train_configs[0].gt_config
    config = with_dataset_field(
        run_config, "gt_config",
        source_array_config=attrs.evolve(gt.source_array_config, voxel_size=(6, 6, 6)),
    )
    ok, message = config.verify()
    assert not ok
    one_line(message)
    assert message.startswith("RunConfig 'small_run': datasplit_config: ")
    assert "RawGTDatasetConfig 'train': raw voxel size (8, 8, 8) and gt voxel size (6, 6, 6)" in message
    assert "incompatible (neither divides the other)" in message


def test_voxel_size_override_with_wrong_dimensions(data_dir):
    message = api_error(
        ZarrArrayConfig(
            name="raw", file_name=data_dir / "train.zarr", dataset="raw", voxel_size=(8, 8)
        ).array
    )
    assert "ZarrArrayConfig 'raw'" in message and "voxel_size" in message and "(8, 8)" in message


# --- architecture shapes ------------------------------------------------------------------------
UNET = dict(name="unet", fmaps_out=4, fmaps_in=1, num_fmaps=4, fmap_inc_factor=2,
            downsample_factors=[(2, 2, 2)])


def test_input_shape_not_divisible_by_downsampling():
    message = api_error(CNNectomeUNetConfig, input_shape=(67, 67, 67), **UNET)
    assert "CNNectomeUNetConfig 'unet'" in message and "input_shape=(67, 67, 67)" in message
    assert "not divisible by the downsample factor 2" in message
    assert "nearest valid: (66, 66, 66) or (68, 68, 68)" in message


def test_input_shape_not_divisible_in_a_stored_yaml(run_config, options):
    store(run_config)
    path = options.runs_base_dir / "configs" / "runs" / "small_run.yaml"
    document = yaml.safe_load(path.read_text())
    document["architecture_config"]["input_shape"] = [37, 36, 36]
    path.write_text(yaml.safe_dump(document))
    line = cli_error("train", "-r", "small_run")
    assert "CNNectomeUNetConfig 'tiny_unet': input_shape=(37, 36, 36)" in line
    assert "nearest valid: (36, 36, 36) or (38, 36, 36)" in line


def test_input_shape_too_small():
    message = api_error(CNNectomeUNetConfig, input_shape=(8, 8, 8), **UNET)
    assert "input_shape=(8, 8, 8)" in message and "nearest valid: (18, 18, 18)" in message


def test_eval_shape_increase_not_a_multiple_of_downsampling():
    message = api_error(CNNectomeUNetConfig, input_shape=(36, 36, 36), eval_shape_increase=(3, 3, 3), **UNET)
    assert "eval_shape_increase=(3, 3, 3)" in message and "nearest valid" in message


# --- task against gt, model against raw ---------------------------------------------------------
def test_gt_with_fewer_channels_than_the_task(run_config):
    config = attrs.evolve(
        run_config, name="two_channels",
        task_config=DistanceTaskConfig(
            name="two_classes", channels=["cell", "nucleus"], clip_distance=40.0,
            tol_distance=40.0, scale_factor=40.0,
        ),
    )
    line = cli_error("train", "-r", store(config))
    assert "RunConfig 'two_channels': dataset 'train': gt has 1 channel(s)" in line
    assert "task 'two_classes' (DistanceTaskConfig) predicts ['cell', 'nucleus']" in line
    assert "one channel per gt channel" in line


def test_gt_with_more_channels_than_the_task(run_config):
    gt = run_config.datasplit_config.train_configs[0].gt_config
    config = with_dataset_field(
        run_config, "gt_config", groupings=[("cell", []), ("background", [0])]
    )
    assert isinstance(gt, BinarizeArrayConfig)
    ok, message = config.verify()
    assert not ok
    one_line(message)
    assert "dataset 'train': gt has 2 channel(s)" in message and "predicts ['cell']" in message


def test_raw_channels_differ_from_fmaps_in(run_config):
    config = attrs.evolve(
        run_config, architecture_config=attrs.evolve(run_config.architecture_config, fmaps_in=2)
    )
    ok, message = config.verify()
    assert not ok
    one_line(message)
    assert "raw has 1 channel(s)" in message and "architecture 'tiny_unet' takes 2" in message
    assert "set its fmaps_in to 1" in message


def test_a_fitting_run_verifies(run_config):
    ok, message = run_config.verify()
    assert ok, message


# --- names and stored configs -------------------------------------------------------------------
def test_unknown_run_name(run_config):
    store(run_config)
    line = cli_error("train", "-r", "smal_run")
    assert "no run config named 'smal_run'" in line and "did you mean 'small_run'? 1 stored" in line
    assert "store it first (store_run_config)" in line
    line = cli_error("train", "-r", "other")
    assert "(stored run configs: small_run)" in line


def test_run_name_with_a_slash(run_config):
    message = api_error(attrs.evolve, run_config, name="exp/1")
    assert "RunConfig name 'exp/1' is invalid" in message and "no path separators" in message
    assert "no path separators" in cli_error("train", "-r", "exp/1")


def test_unknown_config_type_in_a_stored_yaml(run_config, options):
    store(run_config)
    path = options.runs_base_dir / "configs" / "runs" / "small_run.yaml"
    document = yaml.safe_load(path.read_text())
    document["task_config"]["__type__"] = "DistanceTaskConfg"
    path.write_text(yaml.safe_dump(document))
    line = cli_error("train", "-r", "small_run")
    assert "unknown config type 'DistanceTaskConfg'" in line and "DistanceTaskConfig" in line


def test_unknown_config_type_suggests_the_closest():
    from dacapo.config import config_class

    message = api_error(config_class, "DistanceTaskConfg")
    assert "did you mean 'DistanceTaskConfig'?" in message and "ZarrArrayConfig" not in message


def test_missing_field_in_a_stored_yaml(run_config, options):
    store(run_config)
    path = options.runs_base_dir / "configs" / "runs" / "small_run.yaml"
    document = yaml.safe_load(path.read_text())
    del document["task_config"]["channels"]
    path.write_text(yaml.safe_dump(document))
    line = cli_error("train", "-r", "small_run")
    assert line == "Error: RunConfig 'small_run': required field missing @ $.task_config.channels"


def test_negative_learning_rate():
    message = api_error(GunpowderTrainerConfig, name="trainer", batch_size=2, learning_rate=-1e-3)
    assert message == "GunpowderTrainerConfig 'trainer': learning_rate=-0.001 must be > 0"


def test_validating_a_checkpoint_that_does_not_exist(run_config):
    line = cli_error("validate", "-r", store(run_config), "-i", "7")
    assert line == "Error: run 'small_run' has no checkpoint of iteration 7 (stored: none)"


# --- dacapo.yaml and the stores -----------------------------------------------------------------
@pytest.fixture
def dacapo_yaml(options, tmp_path, monkeypatch):
    """Write ``./dacapo.yaml`` (the file the options read) and let it rule: no DACAPO_* overrides."""
    path = tmp_path / "dacapo.yaml"
    monkeypatch.setenv("DACAPO_OPTIONS_FILE", str(path))
    monkeypatch.delenv("DACAPO_TYPE")
    monkeypatch.delenv("DACAPO_RUNS_BASE_DIR")
    return path


def test_malformed_dacapo_yaml(dacapo_yaml):
    dacapo_yaml.write_text("type: files\nruns_base_dir: [unclosed\n")
    line = cli_error("train", "-r", "any")
    assert str(dacapo_yaml) in line and "malformed YAML (line" in line and "fix the file" in line


def test_unknown_option_in_dacapo_yaml(dacapo_yaml):
    dacapo_yaml.write_text("runs_base_dri: /tmp/x\n")
    line = cli_error("train", "-r", "any")
    assert "unknown option 'runs_base_dri'; did you mean 'runs_base_dir'?" in line


def test_mongo_without_a_host(dacapo_yaml):
    dacapo_yaml.write_text("type: mongo\nmongodbname: dacapo\n")
    message = api_error(Options.instance)
    assert message == "dacapo.yaml: type 'mongo' needs both mongodbhost and mongodbname"


def test_unknown_compute_context(dacapo_yaml):
    dacapo_yaml.write_text("compute_context: {type: Lsf, config: {queue: gpu}}\n")
    message = api_error(Options.instance)
    assert "compute_context: unknown type 'Lsf'; known: LocalTorch, Bsub, Slurm" in message


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_mongo(dacapo_yaml):
    host = f"mongodb://127.0.0.1:{_closed_port()}/?serverSelectionTimeoutMS=500"
    dacapo_yaml.write_text(f"type: mongo\nmongodbhost: '{host}'\nmongodbname: dacapo\n")
    started = time.perf_counter()
    line = cli_error("train", "-r", "any")
    assert time.perf_counter() - started < 2.5  # 0.5 s, not retried: the server was never reached
    assert f"MongoDB at {host.split('?')[0]}" in line and "is unreachable" in line
    assert "check that the MongoDB server is running" in line and "mongodbhost" in line


def test_unreachable_mongo_default_timeout_is_short():
    from dacapo.store._mongo import DEFAULT_TIMEOUT, MongoConnection

    connection = MongoConnection(f"mongodb://127.0.0.1:{_closed_port()}/", "dacapo")
    assert connection.timeout == DEFAULT_TIMEOUT <= 5


def test_a_document_naming_a_family_base():
    # found by tests/faults' fuzzing: a stored ``__type__: ArrayConfig`` gave NotImplementedError
    from dacapo.store.converter import structure

    config = structure({"__type__": "ArrayConfig", "name": "raw"})
    ok, message = config.verify()
    assert not ok and message == (
        "ArrayConfig 'raw': a base class has no array; use one of its kinds "
        "(e.g. BinarizeArrayConfig, ConcatArrayConfig, ConstantArrayConfig)"
    )
    assert "use one of its kinds" in api_error(lambda: structure({"__type__": "TaskConfig", "name": "t"}).task_type)
