"""docs/run-configs.md as a new user follows it: its Python blocks run in order in a fresh
directory and store runs that train; `dacapo new-run` stores a run that trains, and refuses
(storing nothing) one whose data does not fit."""

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from dacapo.cli import cli
from dacapo.store.create_store import create_config_store, create_weights_store

PAGE = Path(__file__).resolve().parents[2] / "docs" / "run-configs.md"
DOC_RUNS = {"cells_distance_3d", "cells_affinities_3d", "cells_one_hot_3d",
            "cells_distance_2d", "cells_affinities_2d", "cells_one_hot_2d"}

pytestmark = pytest.mark.slow


def _python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def _train_one_iteration(name: str) -> None:
    result = CliRunner().invoke(cli, ["train", "-r", name, "--iterations", "1", "--no-validation"])
    assert result.exit_code == 0, result.output
    assert create_weights_store().latest_iteration(name) == 1


def test_the_page_configs_store_and_train(options, tmp_path, capsys):
    blocks = _python_blocks(PAGE.read_text())
    assert len(blocks) == 6
    namespace = {"__name__": "docs"}
    for block in blocks:  # tmp_path is the working directory (options fixture)
        exec(compile(block, str(PAGE), "exec"), namespace)
    printed = capsys.readouterr().out
    assert printed.count("the task, model and data fit together") == len(DOC_RUNS), printed
    assert set(create_config_store().names("run")) == DOC_RUNS
    for name in sorted(DOC_RUNS):
        _train_one_iteration(name)


def test_new_run_command(options, tmp_path):
    from dacapo.utils.synthetic import write_cells

    write_cells("data/train.zarr", (48, 48, 48), voxel_size=(8, 8, 8), seed=1, num_objects=8)
    write_cells("data/validate.zarr", (40, 40, 40), voxel_size=(4, 4, 4), seed=2, num_objects=6)
    arguments = ["new-run", "mine", "--raw", "data/train.zarr/raw", "--gt", "data/train.zarr/labels",
                 "--task", "affinities", "--input-shape", "44,44,44", "--num-fmaps", "4",
                 "--iterations", "1"]
    # validation gt at 4 nm while the model predicts 8 nm: refused, nothing stored
    result = CliRunner().invoke(cli, arguments + ["--validate-raw", "data/train.zarr/raw",
                                                  "--validate-gt", "data/validate.zarr/labels"])
    assert result.exit_code == 1
    (line,) = result.output.strip().splitlines()
    assert "gt voxel size (4, 4, 4) != model output voxel size (8, 8, 8)" in line
    assert line.endswith("(nothing stored)")
    assert create_config_store().names("run") == []

    result = CliRunner().invoke(cli, arguments + ["--print-yaml"])
    assert result.exit_code == 0, result.output
    assert "stored run mine in FileConfigStore(" in result.output
    assert "next: dacapo train -r mine" in result.output
    assert "neighborhood:" in result.output
    config = create_config_store().retrieve_run_config("mine")
    assert config.trainer_config.warmup_iterations == 0  # never longer than the run
    _train_one_iteration("mine")
