"""Code written against dacapo-ml 0.3.5, run unchanged: its fixtures (pytest's ``tmpdir``,
``UPath`` paths), its options, its names and its defaults; every public name of the original
exists here or fails with a one-line error naming what replaces it."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import warnings
from pathlib import Path

import attrs
import numpy as np
import pytest
import yaml
import zarr
from funlib.geometry import Coordinate, Roi
from upath import UPath

import dacapo
from dacapo.config import CONFIG_TYPES, ConfigError, import_config_families
from dacapo.experiments.architectures import CNNectomeUNetConfig, DummyArchitectureConfig
from dacapo.experiments.datasplits import TrainValidateDataSplitConfig
from dacapo.experiments.datasplits.datasets import RawGTDatasetConfig
from dacapo.experiments.datasplits.datasets.arrays import ZarrArrayConfig
from dacapo.options import Options
from dacapo.store.create_store import create_config_store

HERE = Path(__file__).parent
MIGRATION_PAGE = HERE.parent.parent / "docs" / "migration.md"


def _original(name: str) -> list[str]:
    lines = (HERE / name).read_text().splitlines()
    return [line for line in lines if line and not line.startswith("#")]


# --- 1. paths ------------------------------------------------------------------------------------
def _twelve_class_datasplit(container):
    """The original's ``twelve_class_datasplit`` fixture, shrunk: written with zarr at a path
    given as the caller's type (``tmpdir / ...`` or ``UPath``)."""
    root = zarr.open(container, "w")
    crops = []
    rng = np.random.default_rng(0)
    for i in (1, 2):
        raw = ZarrArrayConfig(name=f"crop{i}_raw", file_name=container, dataset=f"volumes/crop{i}/raw")
        gt = ZarrArrayConfig(name=f"crop{i}_gt", file_name=container, dataset=f"volumes/crop{i}/gt")
        data = rng.random((10, 8, 8)).astype(np.float32)
        for config, values in ((raw, data), (gt, (data * 12).astype(np.uint8))):
            dataset = root.create_dataset(config.dataset, data=values)
            dataset.attrs.update(offset=(0, 0, 0), voxel_size=(2, 2, 2), axis_names=("z", "y", "x"))
        crops.append(RawGTDatasetConfig(name=f"crop{i}", raw_config=raw, gt_config=gt))
    return TrainValidateDataSplitConfig(
        name="twelve_class_datasplit", train_configs=crops[:1], validate_configs=crops[1:]
    )


@pytest.mark.parametrize("kind", ["tmpdir", "upath"])
def test_path_fields_take_tmpdir_and_upath_and_round_trip(kind, tmpdir, options):
    container = tmpdir / "test_data.zarr" if kind == "tmpdir" else UPath(str(tmpdir)) / "test_data.zarr"
    config = _twelve_class_datasplit(container)
    raw_config = config.train_configs[0].raw_config
    assert type(raw_config.file_name) is type(Path())
    assert str(raw_config.file_name) == str(container)

    store = create_config_store()
    store.store_datasplit_config(config)
    assert store.retrieve_datasplit_config(config.name) == config
    raw = raw_config.array()
    assert raw.voxel_size == Coordinate(2, 2, 2) and raw.roi == Roi((0, 0, 0), (20, 16, 16))
    np.testing.assert_array_equal(raw[raw.roi], zarr.open(str(container))["volumes/crop1/raw"][:])


def test_a_path_field_rejects_what_is_no_path_in_one_line():
    with pytest.raises(ConfigError, match=r"ZarrArrayConfig 'x': file_name=3 must be a path") as error:
        ZarrArrayConfig(name="x", file_name=3, dataset="raw")
    assert "\n" not in str(error.value)
    from dacapo.experiments.datasplits.datasets.arrays import TiffArrayConfig

    with pytest.raises(ConfigError, match=r"TiffArrayConfig 't': file_name=S3Path\(.*\) must be a local path"):
        TiffArrayConfig(name="t", file_name="s3://bucket/raw.tif")


def test_remote_urls_stay_urls():
    config = ZarrArrayConfig(name="x", file_name="s3://janelia-cosem-datasets/jrc_hela-2/jrc_hela-2.zarr", dataset="recon-1/em/fibsem-uint8/s0")
    assert str(config.file_name) == "s3://janelia-cosem-datasets/jrc_hela-2/jrc_hela-2.zarr"
    assert config.file_name.protocol == "s3"


# --- 2. options ----------------------------------------------------------------------------------
def test_the_originals_option_spellings(tmp_path, options, monkeypatch):
    options_file = tmp_path / "dacapo.yaml"
    options_file.write_text(yaml.safe_dump({
        "type": "files", "runs_base_dir": str(tmp_path / "runs"),
        "mongo_db_host": "mongodb://localhost:27017", "mongo_db_name": "dacapo_tests",
    }))
    monkeypatch.setenv("DACAPO_OPTIONS_FILE", str(options_file))
    monkeypatch.delenv("DACAPO_RUNS_BASE_DIR")
    loaded = Options.instance()
    assert (loaded.mongo_db_host, loaded.mongo_db_name) == ("mongodb://localhost:27017", "dacapo_tests")
    assert loaded.mongodbhost == loaded.mongo_db_host  # both spellings
    assert loaded.serialize() == {
        "type": "files",
        "runs_base_dir": str(tmp_path / "runs"),
        "compute_context": {"type": "LocalTorch", "config": {}},
        "mongo_db_host": "mongodb://localhost:27017",
        "mongo_db_name": "dacapo_tests",
    }
    # what the original's Options.instance(**kwargs) accepts, runs_base_dir as tmpdir or UPath
    for base in (tmp_path / "a", UPath(str(tmp_path / "b"))):
        chosen = Options.instance(
            type="mongo", runs_base_dir=base, compute_context={"type": "LocalTorch", "config": {}},
            mongo_db_host="mongodb://db:27017", mongo_db_name="other",
        )
        assert chosen.runs_base_dir == Path(str(base)) and chosen.mongo_db_name == "other"
    assert Options.instance().serialize()["type"] == "files"  # no None values, as the original
    with pytest.raises(RuntimeError, match="Singleton: Use Options.instance()"):
        Options()
    with pytest.raises(ConfigError, match=r"runs_base_dir='s3://bucket/runs' must be a local path"):
        Options.instance(runs_base_dir="s3://bucket/runs")


# --- 3. names ------------------------------------------------------------------------------------
def test_every_public_name_of_the_original_exists_or_says_what_replaces_it():
    present, replaced = [], []
    for entry in _original("dacapo_ml_0_3_5_names.txt"):
        module_name, name = entry.split(":")
        try:
            value = getattr(importlib.import_module(module_name), name)
        except ImportError as error:  # ModuleNotFoundError, or a removed name
            message = str(error)
            assert "\n" not in message and "dacapo-ml 0.3.5" in message and "; use " in message, entry
            replaced.append(entry)
            continue
        assert value is not None, entry
        present.append(entry)
    assert len(present) + len(replaced) == 408
    assert len(present) >= 276, len(present)  # the count the migration page states


def test_names_the_originals_users_import():
    from dacapo.experiments.tasks.losses import DummyLoss
    from dacapo.experiments.trainers import DummyTrainer, DummyTrainerConfig
    from dacapo.predict_local import predict  # noqa: F401
    from dacapo.tmp import num_channels_from_array, np_to_funlib_array

    import torch

    assert float(DummyLoss().compute(torch.tensor([1.0, 2.0]), torch.tensor([4.0, 0.0]))) == 5.0
    trainer_config = DummyTrainerConfig(name="dummy_trainer", mirror_augment=False)
    assert trainer_config.verify()[0]  # the original said "never valid"; it trains here (docs/migration.md)
    assert trainer_config.trainer_type is DummyTrainer
    with_channels = np_to_funlib_array(np.zeros((3, 4, 4)), Coordinate(0, 0), Coordinate(1, 1))
    assert num_channels_from_array(with_channels) == 3
    assert num_channels_from_array(np_to_funlib_array(np.zeros((4, 4)), Coordinate(0, 0), Coordinate(1, 1))) is None
    with pytest.raises(ImportError, match=r"^dacapo.gp \(dacapo-ml 0.3.5\) does not exist in DaCapo; use gunpowder"):
        import dacapo.gp.elastic_augment_fuse  # noqa: F401
    with pytest.raises(ImportError, match=r"dacapo.apply.apply_run \(dacapo-ml 0.3.5\).*use dacapo.apply"):
        from dacapo.apply import apply_run  # noqa: F401
    from dacapo.experiments.datasplits.simple_config import SimpleDataSplitConfig
    from dacapo.experiments.datasplits import SimpleDataSplitConfig as ours

    assert SimpleDataSplitConfig is ours


def test_predict_local_predict_as_the_original(tmp_path):
    """``predict_local.predict(model, raw identifier, prediction identifier)``: the output is
    the model applied to every block of the raw ROI less the context."""
    import torch

    from dacapo.experiments.model import Model
    from dacapo.predict_local import predict
    from dacapo.store.array_store import LocalArrayIdentifier

    architecture = DummyArchitectureConfig(name="a", num_in_channels=1, num_out_channels=2)
    model = Model(architecture.architecture_type(architecture), torch.nn.Identity())
    raw = np.random.default_rng(1).random((44, 24, 24)).astype(np.float32)
    container = tmp_path / "data.zarr"
    array = zarr.open(str(container), "w").create_dataset("raw", data=raw)
    array.attrs.update(offset=(0, 0, 0), voxel_size=(1, 1, 1), axis_names=["z", "y", "x"])
    output = predict(
        model,
        LocalArrayIdentifier(container, "raw"),
        LocalArrayIdentifier(tmp_path / "out.zarr", "prediction"),
    )
    assert output.roi == Roi((1, 1, 1), (42, 22, 22))
    with torch.no_grad():
        model.eval()
        expected = model(torch.from_numpy(raw[None, None])).numpy()[0]
    np.testing.assert_allclose(output[output.roi], expected, rtol=1e-5, atol=1e-6)


# --- 4. defaults ---------------------------------------------------------------------------------
#: the fields whose default (or presence) differs from the original, each on the migration page
DIFFERENCES = {
    "GunpowderTrainerConfig.gt_min_reject": "missing",
    "DVIDArrayConfig.source": "missing class",
    "DistanceTaskConfig.mask_distances": "default",
    "GunpowderTrainerConfig.clip_raw": "default",
    "SimpleDataSplitConfig.validate_group_name": "default",
}


def _default(field):
    default = field.default
    if isinstance(default, attrs.Factory):
        return default.factory()
    return default


def test_defaults_match_the_original_except_the_documented_ones():
    import_config_families()
    differences = {}
    for entry in _original("dacapo_ml_0_3_5_fields.txt"):
        key, original = (part.strip() for part in entry.split("=", 1))
        class_name, field_name = key.split(".")
        if class_name == "DaCapoConfig":  # the options: tested above
            continue
        cls = CONFIG_TYPES.get(class_name)
        if cls is None:
            differences.setdefault(f"{class_name}.source", "missing class")
            continue
        fields = {f.name: f for f in attrs.fields(cls)}
        if field_name not in fields:
            differences[key] = "missing"
            continue
        if original == "REQUIRED":  # a default here where the original required a value
            continue
        if original.startswith("factory "):
            expected = eval(original[len("factory "):])()  # noqa: S307 (the original's source)
        else:
            expected = ast.literal_eval(original)
        if _default(fields[field_name]) != expected:
            differences[key] = "default"
    assert differences == DIFFERENCES
    page = MIGRATION_PAGE.read_text()
    for key in DIFFERENCES:
        assert f"`{key.split('.')[0] if key.endswith('.source') else key}`" in page, key


def test_batch_norm_defaults_to_false_as_the_original():
    config = CNNectomeUNetConfig("unet", (64, 64), 4, 1, 4, 2, [(2, 2)])
    assert config.batch_norm is False
    network = config.architecture_type(config)
    assert not any(isinstance(m, torch_batch_norms()) for m in network.modules())


def torch_batch_norms():
    import torch

    return (torch.nn.BatchNorm2d, torch.nn.BatchNorm3d)


def test_stored_configs_warn_only_for_fields_their_document_lacks(monkeypatch):
    """Every command that reads a stored config would repeat the warning; a document that names
    the field (DaCapo writes them all) chose it, one that lacks it (a migrated file) is told."""
    from dacapo import compat
    from dacapo.experiments.tasks import DistanceTaskConfig
    from dacapo.store.converter import structure, unstructure

    monkeypatch.setattr(compat, "_WARNED", set())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        document = unstructure(DistanceTaskConfig(name="d", channels=["a"], clip_distance=5, tol_distance=10))
    monkeypatch.setattr(compat, "_WARNED", set())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert structure(document).mask_distances is False
    del document["mask_distances"]
    with pytest.warns(compat.DefaultChangedWarning, match=r"DistanceTaskConfig.mask_distances is False"):
        structure(document)


def test_a_deliberately_changed_default_warns_once(monkeypatch):
    from dacapo import compat
    from dacapo.experiments.tasks import DistanceTaskConfig, HotDistanceTaskConfig

    monkeypatch.setattr(compat, "_WARNED", set())
    with pytest.warns(compat.DefaultChangedWarning, match=r"DistanceTaskConfig.mask_distances is False \(dacapo-ml 0.3.5 defaulted to True\)"):
        DistanceTaskConfig(name="d", channels=["a"], clip_distance=5, tol_distance=10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        DistanceTaskConfig(name="e", channels=["a"], clip_distance=5, tol_distance=10)
        # the original's hot-distance task defaulted to False: no warning for it
        HotDistanceTaskConfig(name="h", channels=["a"], clip_distance=5, tol_distance=10)
        DistanceTaskConfig(name="f", channels=["a"], clip_distance=5, tol_distance=10, mask_distances=True)


# --- 5. modules stay importable -------------------------------------------------------------------
def test_entry_points_are_their_modules_and_callable():
    import dacapo.apply
    import dacapo.predict
    import dacapo.train
    import dacapo.validate

    for name in ("apply", "predict", "train", "validate"):
        module = getattr(dacapo, name)
        assert inspect.ismodule(module) and module.__name__ == f"dacapo.{name}"
        assert callable(module)
        function = getattr(module, name)
        assert inspect.signature(module) == inspect.signature(function)
    assert dacapo.apply.validation_dataset_names is not None  # the module's own helpers
    assert callable(dacapo.train_run) and callable(dacapo.validate_run)
    # the original's package attributes
    assert dacapo.__version_info__ == tuple(int(v) for v in dacapo.__version__.split("."))
    assert inspect.ismodule(dacapo.experiments) and inspect.ismodule(dacapo.predict_local)
    from dacapo.blockwise import run_blockwise, segment_blockwise

    assert (dacapo.run_blockwise, dacapo.segment_blockwise) == (run_blockwise, segment_blockwise)


def test_calling_the_module_calls_the_function(options):
    with pytest.raises(Exception, match=re.escape("no_such_run")):
        dacapo.train("no_such_run")


def test_fields_of_the_original_that_take_effect_here(tmp_path):
    import tifffile
    import gunpowder as gp

    from dacapo.experiments.datasplits.datasets.arrays import TiffArrayConfig
    from dacapo.experiments.tasks import AffinitiesTaskConfig
    from dacapo.experiments.trainers.gp_augments import IntensityAugmentConfig, SimpleAugmentConfig

    simple = SimpleAugmentConfig(augmentation_probability=0.25).node(gp.ArrayKey("RAW"))
    intensity = IntensityAugmentConfig(scale=(0.9, 1.1), shift=(0, 0), augmentation_probability=0.5)
    assert (simple.p, intensity.node(gp.ArrayKey("RAW")).p) == (0.25, 0.5)
    with pytest.raises(ConfigError, match=r"augmentation_probability=2.0 must be in \[0, 1\]"):
        SimpleAugmentConfig(augmentation_probability=2)

    task = AffinitiesTaskConfig(
        name="affs", neighborhood=[(1, 0, 0), (0, 1, 0), (0, 0, 1)], lsds=True,
        lsds_to_affs_weight_ratio=0.5,
    )
    assert task.task_type(task).loss.lsds_to_affs_weight_ratio == 0.5

    from dacapo.experiments.tasks import HotDistanceTaskConfig

    hot = HotDistanceTaskConfig(name="hot", channels=["a"], clip_distance=5, tol_distance=10, kernel_size=3)
    architecture = DummyArchitectureConfig(name="a", num_in_channels=1, num_out_channels=4)
    model = hot.task_type(hot).predictor.create_model(architecture.architecture_type(architecture))
    assert model.prediction_head.kernel_size == (3, 3, 3)
    with pytest.raises(ConfigError, match="kernel_size=2 must be an odd positive integer"):
        HotDistanceTaskConfig(name="hot", channels=["a"], clip_distance=5, tol_distance=10, kernel_size=2)

    tifffile.imwrite(tmp_path / "raw.tif", np.zeros((4, 8, 8), dtype=np.uint8))
    tiff = TiffArrayConfig(
        name="t", file_name=tmp_path / "raw.tif", offset=(0, 0, 0), voxel_size=(4, 2, 2),
        axis_names=["z", "y", "x"], units=["um", "um", "um"],
    )
    assert list(tiff.array().units) == ["um", "um", "um"]


@pytest.mark.slow
def test_the_originals_dummy_run_trains_and_its_weights_load(options):
    """The original's ``dummy_run`` fixture (its dummy task, architecture, trainer and
    datasplit), trained with ``train_run`` and loaded back through the weights store's
    ``load_weights`` / ``load_best``."""
    import torch

    from dacapo.experiments.datasplits import DummyDataSplitConfig
    from dacapo.experiments.run import Run
    from dacapo.experiments.run_config import RunConfig
    from dacapo.experiments.tasks import DummyTaskConfig
    from dacapo.experiments.trainers import DummyTrainerConfig
    from dacapo.store.array_store import LocalArrayIdentifier, LocalContainerIdentifier
    from dacapo.store.create_store import create_weights_store

    run_config = RunConfig(
        name="dummy_run",
        task_config=DummyTaskConfig(name="dummy_task", embedding_dims=12, detection_threshold=0.1),
        architecture_config=DummyArchitectureConfig(name="dummy_architecture", num_in_channels=1, num_out_channels=12),
        trainer_config=DummyTrainerConfig(name="dummy_trainer", mirror_augment=False),
        datasplit_config=DummyDataSplitConfig(name="dummy_datasplit"),
        repetition=0,
        num_iterations=3,
    )
    run = Run(run_config)
    assert run.trainer.can_train(run.datasplit.train)
    with pytest.raises(NotImplementedError, match=r"Trainer.iterate \(dacapo-ml 0.3.5\).*use dacapo.train_run"):
        run.trainer.iterate(1, run.model, run.optimizer, "cpu")
    dacapo.train_run(run, do_validate=False)  # the original's keyword
    weights_store = create_weights_store()
    assert weights_store.iterations("dummy_run") == [3]

    trained = {k: v.clone() for k, v in run.model.state_dict().items()}
    fresh = Run(run_config)
    assert any(not torch.equal(trained[k], v) for k, v in fresh.model.state_dict().items())
    weights_store.load_weights(fresh, 3)
    assert all(torch.equal(trained[k], v) for k, v in fresh.model.state_dict().items())
    with pytest.raises(ValueError, match=r"run 'dummy_run': no best iteration by 'voi' on d is recorded"):
        weights_store.load_best(fresh, "d", "voi")

    container = LocalContainerIdentifier(options.runs_base_dir / "x.zarr")
    assert container.array_identifier("raw") == LocalArrayIdentifier(options.runs_base_dir / "x.zarr", "raw")


def test_the_originals_keyword_arguments(options):
    """``train(run_name, do_validate=False)`` and friends: renamed keywords are passed on (the
    slow dummy-run test trains with ``do_validate=False``), unsupported values fail in one
    line."""
    with pytest.raises(Exception, match="no_such_run") as error:
        dacapo.train("no_such_run", do_validate=False)
    assert not isinstance(error.value, TypeError)
    with pytest.raises(TypeError, match=r"got both do_validate= \(dacapo-ml 0.3.5\) and validate="):
        dacapo.train("no_such_run", do_validate=False, validate=True)
    with pytest.raises(ValueError, match=r"^dacapo.validate.validate_run\(datasets_config=...\) \(dacapo-ml 0.3.5\) does not exist"):
        dacapo.validate_run(None, 0, datasets_config=["x"])
    with pytest.raises(ValueError, match=r"dacapo.apply.apply\(file_format=...\).*use zarr outputs"):
        dacapo.apply("run", "in.zarr", "raw", "out", file_format="n5")
    assert "validate" in inspect.signature(dacapo.train_run).parameters
