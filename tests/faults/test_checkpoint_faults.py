"""Checkpoints that are crafted, damaged or not checkpoints at all: a pickle that would run code is
refused wherever weights are loaded (resume, validate, a start, pretrained weights) with one line
naming the file, and runs nothing; a damaged latest checkpoint makes the resume fall back to the
newest whole one with a warning naming it, and junk in the checkpoints directory is ignored."""

from __future__ import annotations

import builtins

import numpy as np
import pytest
import torch

from dacapo.config import ConfigError
from dacapo.experiments.starts import StartConfig
from dacapo.store.create_store import create_config_store, create_weights_store
from dacapo.utils.checkpoints import DamagedCheckpoint, RefusedCheckpoint, load_checkpoint

from e2e.helpers import small_run_config
from .integrity import check_run
from .processes import one_error_line, run_cli

INTERVAL = 2


class _WritesAFile:
    """Unpickling calls ``open(marker, "w")``: a file appears if the pickle runs."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return builtins.open, (self.marker, "w")


def _plant_malicious(path, marker) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"iteration": 2, "model": {"w": torch.zeros(1)}, "payload": _WritesAFile(marker)}, path)


def test_malicious_checkpoint_runs_nothing(options, cli_env, tmp_path, tally, monkeypatch):
    runs = options.runs_base_dir
    marker = tmp_path / "pwned"
    probe = tmp_path / "probe.pt"
    _plant_malicious(probe, marker)
    torch.load(probe, weights_only=False)  # the old loading runs the payload: the test has teeth
    assert marker.exists()
    marker.unlink()
    with pytest.raises(RefusedCheckpoint, match=f"^refused to load {probe}: .*io.open"):
        load_checkpoint(probe)

    create_config_store().store_run_config(small_run_config(tmp_path / "data", name="victim", iterations=4,
                                                            validation_interval=INTERVAL))
    planted = runs / "victim" / "checkpoints" / "iterations" / "2"
    _plant_malicious(planted, marker)
    for argv in (["train", "-r", "victim"], ["validate", "-r", "victim", "-i", "2"]):
        process = run_cli(argv, cli_env, tmp_path / f"{argv[0]}.log")
        one_error_line(process, "refused to load", str(planted), "weights_only=True")
        tally.bad_input(f"{argv[0]}:malicious checkpoint")
    # a start from that run and pretrained weights from that file
    from dacapo.experiments.architectures import CNNectomeUNetConfig
    from dacapo.experiments.tasks import DistanceTaskConfig, PretrainedTaskConfig

    model = torch.nn.Linear(1, 1)
    with pytest.raises(RefusedCheckpoint, match=str(planted)):
        start = StartConfig(run="victim", criterion=2)
        start.start_type(start).initialize_weights(model, create_weights_store())
    task_config = PretrainedTaskConfig(
        name="pretrained", weights=planted,
        sub_task_config=DistanceTaskConfig(name="d", channels=["cell"], clip_distance=40.0,
                                           tol_distance=40.0, scale_factor=40.0),
    )
    architecture = CNNectomeUNetConfig(name="u", input_shape=(36, 36, 36), fmaps_out=8, fmaps_in=1,
                                       num_fmaps=4, fmap_inc_factor=2, downsample_factors=[(2, 2, 2)])
    with pytest.raises(ConfigError, match=f"PretrainedTaskConfig: cannot read weights: refused to load {planted}"):
        task_config.task_type(task_config).predictor.create_model(architecture.architecture_type(architecture))
    # a COSEM network planted in the download cache
    from dacapo.experiments.starts import CosemStartConfig

    monkeypatch.setenv("DACAPO_COSEM_CACHE", str(tmp_path / "cosem"))
    _plant_malicious(tmp_path / "cosem" / "setup04" / "1820500", marker)
    cosem = CosemStartConfig(run="setup04", criterion="1820500")
    with pytest.raises(ConfigError, match="CosemStartConfig: cannot read .*refused to load"):
        cosem.start_type(cosem).initialize_weights(model)
    tally.bad_input("start/pretrained/cosem:malicious checkpoint", 3)
    assert not marker.exists(), "the checkpoint's pickle ran"
    assert planted.exists()  # a file DaCapo did not write is left where it is
    tally.checked("malicious checkpoint ran nothing")


def _model_tensors(state) -> dict:
    return {k: v.clone().numpy() for k, v in state["model"].items()}


def test_damaged_latest_checkpoint_falls_back(options, cli_env, tmp_path, tally):
    runs = options.runs_base_dir
    create_config_store().store_run_config(small_run_config(tmp_path / "data", name="damaged", iterations=6,
                                                            validation_interval=INTERVAL))
    first = run_cli(["train", "-r", "damaged", "--no-validation"], cli_env, tmp_path / "first.log")
    assert first.process.exitcode == 0, first.output[-3000:]
    weights = create_weights_store()
    uninterrupted = _model_tensors(weights.retrieve_weights("damaged", 6))

    iterations = runs / "damaged" / "checkpoints" / "iterations"
    latest = iterations / "6"
    data = latest.read_bytes()
    latest.write_bytes(data[: len(data) // 2])  # a copy cut short
    tally.fault("checkpoint:truncated")
    with pytest.raises(DamagedCheckpoint, match=f"^{latest} is damaged") as error:
        weights.retrieve_weights("damaged", 6)
    assert "\n" not in str(error.value) and "mmap" not in str(error.value)
    junk = {"40": None, "0004": b"x", "7.bak": b"x", "notes.txt": b"x"}  # None: a directory
    for name, content in junk.items():
        if content is None:
            (iterations / name).mkdir()
            (iterations / name / "inside").write_bytes(b"not ours")
        else:
            (iterations / name).write_bytes(content)
    tally.bad_input("checkpoint:junk entries", len(junk))
    assert weights.iterations("damaged") == [2, 4, 6]
    assert weights.latest_iteration("damaged", verify=True) == 4

    resumed = run_cli(["train", "-r", "damaged", "--no-validation"], cli_env, tmp_path / "resumed.log")
    assert resumed.process.exitcode == 0, resumed.output[-3000:]
    warnings = [line for line in resumed.output.splitlines() if line.startswith("WARNING")]
    assert any(str(latest) in line and "damaged" in line for line in warnings), resumed.output[-3000:]
    assert check_run(runs, "damaged", INTERVAL) == 6
    again = _model_tensors(weights.retrieve_weights("damaged", 6))
    assert again.keys() == uninterrupted.keys()
    for key in again:
        assert np.array_equal(again[key], uninterrupted[key]), key
    for name, content in junk.items():  # nothing DaCapo did not write was touched
        path = iterations / name
        assert (path / "inside").read_bytes() == b"not ours" if content is None else path.read_bytes() == content
    tally.checked("resumed past a damaged checkpoint to the uninterrupted weights")

    # every checkpoint damaged: an error, not a new training over them
    damaged = {}
    for iteration in (2, 4, 6):
        path = iterations / str(iteration)
        damaged[path] = path.read_bytes()[:100]
        path.write_bytes(damaged[path])
    tally.fault("checkpoint:all truncated")
    refused = run_cli(["train", "-r", "damaged", "--no-validation"], cli_env, tmp_path / "refused.log")
    one_error_line(refused, "none of its checkpoints reads back whole", str(latest))
    assert all(path.read_bytes() == data for path, data in damaged.items())
    tally.checked("damaged checkpoints kept, not trained over")
