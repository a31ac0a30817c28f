"""Careless inputs around the stores: configs that would not read back are refused when stored
(files and MongoDB) and store nothing; a run file copied by hand under another name is refused;
``dacapo ls`` lists the runs it can read and names the ones it skipped; a bad ``runs_base_dir``,
NaN in raw, a damaged ``best.json`` and duplicated stats lines give one line naming what is
wrong; the view server does not follow a symlink planted in a served array."""

from __future__ import annotations

import json
import logging
import os
import urllib.error
import urllib.request

import attrs
import numpy as np
import pytest
import zarr

from dacapo.config import ConfigError
from dacapo.experiments.training_iteration_stats import TrainingIterationStats
from dacapo.experiments.training_stats import TrainingStats
from dacapo.store.create_store import create_config_store, create_weights_store
from dacapo.store.file_stats_store import TRAINING, FileStatsStore
from dacapo.store.local_weights_store import LocalWeightsStore

from e2e.helpers import small_run_config
from store.backends import Backend
from .integrity import stats_records
from .processes import CliProcess, one_error_line, run_cli


def _with_dataset_name(config, name):
    datasplit = config.datasplit_config
    validate = [attrs.evolve(datasplit.validate_configs[0], name=name)]
    return attrs.evolve(config, datasplit_config=attrs.evolve(datasplit, validate_configs=validate))


@pytest.mark.parametrize("backend", ["files", "mongo"])
def test_store_refuses_configs_that_would_not_read_back(request, tmp_path, tally, backend):
    store = Backend(backend, request, tmp_path).config_store()
    good = small_run_config(tmp_path / "data", name="careless")
    bad = {
        "seed": attrs.evolve(good, seed=1.5),
        "num_iterations": attrs.evolve(good, num_iterations=True),
        "../evil": _with_dataset_name(good, "../evil"),
    }
    for what, config in bad.items():
        with pytest.raises(ConfigError, match=f"^.*careless.*{what}") as error:
            store.store_run_config(config)
        assert "\n" not in str(error.value)
        tally.bad_input(f"config store ({backend}): {what.strip('./')}")
    assert {kind: store.names(kind) for kind in store.kinds} == {kind: [] for kind in store.kinds}
    store.store_run_config(good)  # the valid config stores and reads back
    assert store.retrieve_run_config("careless") == good
    tally.checked("nothing stored from a refused config")


def test_copied_run_file_trains_nothing(options, cli_env, tmp_path, tally):
    runs = options.runs_base_dir
    create_config_store().store_run_config(small_run_config(tmp_path / "data", name="original", iterations=2,
                                                            validation_interval=2))
    files = runs / "configs" / "runs"
    (files / "copy.yaml").write_bytes((files / "original.yaml").read_bytes())  # name: left unchanged
    process = run_cli(["train", "-r", "copy", "--no-validation"], cli_env, tmp_path / "copy.log")
    one_error_line(process, "'copy'", "'original'")
    tally.bad_input("train: copied run file")
    assert create_weights_store().iterations("original") == []
    assert not (runs / "original").exists() and not (runs / "copy").exists()
    tally.checked("no run trained from a copied file")


def test_ls_lists_what_it_can(options, cli_env, tmp_path, tally):
    runs = options.runs_base_dir
    store = create_config_store()
    for name in ("alpha", "broken", "omega"):
        store.store_run_config(small_run_config(tmp_path / "data", name=name))
    broken = runs / "configs" / "runs" / "broken.yaml"
    broken.write_text(broken.read_text().replace("seed: 0", "seed: 1.5"))
    process = run_cli(["ls"], cli_env, tmp_path / "ls.log")
    assert process.process.exitcode == 0, process.output
    lines = process.output.splitlines()
    assert any(line.startswith("alpha ") for line in lines) and any(line.startswith("omega ") for line in lines)
    skipped = [line for line in lines if line.startswith("skipped run broken:")]
    assert len(skipped) == 1 and "seed" in skipped[0], process.output
    tally.bad_input("ls: unreadable run config")
    assert broken.exists()


def test_runs_base_dir_of_wrong_type(cli_env, tmp_path, tally):
    options_file = tmp_path / "dacapo.yaml"
    options_file.write_text("runs_base_dir: 5\n")
    env = {k: v for k, v in cli_env.items() if not k.startswith("DACAPO_")}
    env["DACAPO_OPTIONS_FILE"] = str(options_file)
    process = run_cli(["ls"], env, tmp_path / "ls.log")
    one_error_line(process, "runs_base_dir", "5")
    tally.bad_input("dacapo.yaml: runs_base_dir: 5")


@pytest.mark.parametrize("workers", [0, 2])
def test_nan_in_raw_is_one_line(options, cli_env, tmp_path, tally, workers):
    config = small_run_config(tmp_path / "data", name="nan", iterations=2, validation_interval=2,
                              num_data_fetchers=workers)
    raw = zarr.open(str(tmp_path / "data" / "train.zarr"), mode="a")
    data, attributes = raw["raw"][:].astype(np.float32), dict(raw["raw"].attrs)
    data[:, :, :] = np.nan  # wherever a sample falls
    del raw["raw"]
    raw.create_dataset("raw", data=data)
    raw["raw"].attrs.update(attributes)
    create_config_store().store_run_config(config)
    process = CliProcess(["train", "-r", "nan", "--no-validation"], cli_env, tmp_path / "nan.log",
                         daemon=not workers)
    process.wait()
    one_error_line(process, "dataset train", "'train_raw'", "NaN")
    tally.bad_input(f"train: NaN in raw ({workers} workers)")
    assert create_weights_store().iterations("nan") == []


def test_damaged_best_json_names_the_file(tmp_path, tally):
    store = LocalWeightsStore(tmp_path)
    store.store_weights("run", 2, {"model": {}})
    store.store_best("run", 2, "val", "dice")
    best = tmp_path / "run" / "checkpoints" / "best.json"
    for damage in (b'{"val": {"dice": 2', b"\xff\xfe", b'{"val": {"dice": "two"}}', b"[2]"):
        best.write_bytes(damage)
        with pytest.raises(ValueError, match=f"^{best} is damaged") as error:
            store.retrieve_best("run", "val", "dice")
        assert "\n" not in str(error.value)
        tally.bad_input("best.json damaged")


def test_duplicated_stats_lines_keep_the_last(tmp_path, caplog, tally):
    store = FileStatsStore(tmp_path / "stats")
    stats = TrainingStats()
    for i in range(4):
        stats.add_iteration_stats(TrainingIterationStats(iteration=i, loss=float(i), time=0.1))
    store.store_training_stats("run", stats)
    path = tmp_path / "stats" / "run" / TRAINING
    lines = path.read_text().splitlines(keepends=True)
    lines.insert(2, lines[1].replace('"loss":1.0', '"loss":9.0'))  # iteration 1 twice, the later wins
    lines.append(lines[3])  # iteration 2 again after iteration 3: 3 is dropped, as after a rollback
    path.write_text("".join(lines))
    tally.bad_input("stats: duplicated lines", 2)
    with caplog.at_level(logging.WARNING):
        read = FileStatsStore(tmp_path / "stats").retrieve_training_stats("run")
    assert [(s.iteration, s.loss) for s in read.iteration_stats] == [(0, 0.0), (1, 9.0), (2, 2.0)]
    assert any(str(path) in r.getMessage() and "stored again" in r.getMessage() for r in caplog.records)
    read.add_iteration_stats(TrainingIterationStats(iteration=3, loss=3.0, time=0.1))
    FileStatsStore(tmp_path / "stats").store_training_stats("run", read)  # rewritten clean
    assert [r["iteration"] for r in stats_records(tmp_path, "run")] == [0, 1, 2, 3]
    tally.checked("stats readable after duplicated lines")


def test_view_does_not_follow_a_planted_symlink(tmp_path, tally):
    from funlib.persistence import prepare_ds

    from dacapo.view import ViewServer, stored_array_layer

    secret = tmp_path / "secret.txt"
    secret.write_text("outside the array")
    array = prepare_ds(str(tmp_path / "served.zarr" / "raw"), shape=(4, 4), voxel_size=(1, 1), dtype=np.uint8)
    array[array.roi] = np.ones((4, 4), dtype=np.uint8)
    os.symlink(secret, tmp_path / "served.zarr" / "raw" / "1.1")
    layer = stored_array_layer("raw", str(tmp_path / "served.zarr" / "raw"))
    with ViewServer([layer]) as server:
        base = f"{server.url}/data{layer.path}"
        with urllib.request.urlopen(base + "/.zarray") as response:
            assert json.loads(response.read())["shape"] == [4, 4]
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(base + "/1.1")
        assert error.value.code == 404
    tally.bad_input("view: symlink out of a served array")
