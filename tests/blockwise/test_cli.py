"""The blockwise commands of the ``dacapo`` CLI."""

import numpy as np
import pytest
from click.testing import CliRunner
from funlib.geometry import Coordinate, Roi
from funlib.persistence import open_ds, prepare_ds

from dacapo.cli import _extra_parameters, cli
from dacapo.predict import output_identifier, parse_coordinate, parse_roi


@pytest.mark.parametrize("command", ["predict", "apply", "run-blockwise", "segment-blockwise"])
def test_help(command):
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert f"Usage: cli {command}" in result.output or f"Usage: dacapo {command}" in result.output


def test_parsing():
    assert parse_roi("[0:100, 8:108,16:40]") == Roi((0, 8, 16), (100, 100, 24))
    assert parse_roi(None) is None
    with pytest.raises(ValueError):
        parse_roi("[0:100, 50:10]")
    with pytest.raises(ValueError):
        parse_roi("0,0,0")
    assert parse_coordinate("[8, 16,32]") == Coordinate(8, 16, 32)
    assert _extra_parameters(["--threshold", "0.5", "--name", "x", "--flag", "--bias=[0.1, 0.2]"]) == {
        "threshold": 0.5, "name": "x", "flag": True, "bias": [0.1, 0.2],
    }
    out = output_identifier("/data/out", "/data/in/raw.zarr", "prediction_r_1")
    assert (str(out.container), out.dataset) == ("/data/out/raw.zarr", "prediction_r_1")
    out = output_identifier("/data/out.zarr", "/x/in.n5", "prediction_r_1")
    assert (str(out.container), out.dataset) == ("/data/out.zarr", "prediction_r_1")
    out = output_identifier("/data/out.zarr/a/b", "/x/in.n5", "prediction_r_1")
    assert (str(out.container), out.dataset) == ("/data/out.zarr", "a/b")


def test_run_and_segment_blockwise_commands(tmp_path, monkeypatch):
    monkeypatch.setenv("DACAPO_OPTIONS_FILE", str(tmp_path / "none.yaml"))
    monkeypatch.setenv("DACAPO_RUNS_BASE_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DACAPO_COMPUTE_CONTEXT", '{"type": "LocalTorch", "config": {"device": "cpu"}}')
    monkeypatch.chdir(tmp_path)
    data = np.zeros((16, 16, 24), dtype=np.float32)
    data[4:8, 4:8, :] = 1.0  # one bar across all blocks
    data[12:14, 12:14, 2:4] = 1.0
    source = prepare_ds(str(tmp_path / "in.zarr/x"), shape=data.shape, voxel_size=(2, 2, 2),
                        dtype=np.float32, mode="w")
    source[source.roi] = data
    runner = CliRunner()
    result = runner.invoke(cli, [
        "run-blockwise", "-wf", "dacapo.blockwise.threshold_worker", "-tr", "[0:32,0:32,0:48]",
        "-rr", "[16,16,16]", "-wr", "[16,16,16]", "-dt", "uint8",
        "--input_container", "in.zarr", "--input_dataset", "x",
        "--output_container", "out.zarr", "--output_dataset", "mask", "--threshold", "0.5",
    ])
    assert result.exit_code == 0, result.output
    mask = open_ds(str(tmp_path / "out.zarr/mask"))
    assert np.array_equal(mask[mask.roi], data.astype(np.uint8))

    result = runner.invoke(cli, [
        "segment-blockwise", "-sf", "dacapo.blockwise.connected_components_function",
        "-wr", "[16,16,16]", "-c", "[4,4,4]", "-ic", "in.zarr", "-id", "x",
        "-oc", "out.zarr", "-od", "seg", "--threshold", "0.5",
    ])
    assert result.exit_code == 0, result.output
    seg = open_ds(str(tmp_path / "out.zarr/seg"))
    labels = seg[seg.roi]
    assert len(np.unique(labels[4:8, 4:8, :])) == 1 and labels[5, 5, 0] != labels[13, 13, 3]
    assert set(np.unique(labels)) == {0, 1, 2}

    result = runner.invoke(cli, ["predict", "-r", "no_such_run", "-ic", "in.zarr", "-id", "x", "-op", "o"])
    assert result.exit_code == 1 and "no_such_run" in result.output
