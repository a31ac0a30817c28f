"""``dacapo validate`` prints the named scores of an instance task: one line per post-processing
setting, the criteria as columns, the baselines and the best setting per criterion."""

import importlib

import pytest
from click.testing import CliRunner

from dacapo.cli import cli
from dacapo.experiments import run_state
from dacapo.experiments.run import Run
from dacapo.experiments.tasks import AffinitiesTaskConfig
from dacapo.experiments.validation_iteration_scores import parameter_label
from dacapo.experiments.validation_scores import parameter_dict
from dacapo.store.create_store import (
    create_config_store,
    create_stats_store,
    create_weights_store,
)

from . import test_tasks_learn as learn

validate_module = importlib.import_module("dacapo.validate")  # (dacapo.validate is also a function)


def test_cli_validate_prints_named_scores_and_baselines(options, tmp_path, monkeypatch):
    task = AffinitiesTaskConfig(name="affs", neighborhood=[(1, 0), (0, 1)])
    config = learn.cells_2d_run_config(tmp_path, "affs_report", task, instances=True,
                                       iterations=1, validation_interval=1)
    create_config_store().store_run_config(config)
    run = Run(config)
    create_weights_store().store_weights(config.name, 0, run_state.capture(run, 0))

    predicted = []  # the dataset is predicted once, then the whole sweep reads that prediction
    predict_dataset = validate_module._predict_dataset
    monkeypatch.setattr(validate_module, "_predict_dataset",
                        lambda run, dataset, *args: predicted.append(dataset.name)
                        or predict_dataset(run, dataset, *args))
    result = CliRunner().invoke(cli, ["validate", "-r", config.name, "-i", "0", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert predicted == ["val"]
    sweep = [parameter_dict(p) for p in run.task.post_processor.enumerate_parameters()]
    lines = result.output.splitlines()
    assert lines[0] == "dataset val (iteration 0)"
    assert lines[1].split() == ["parameters", *run.task.evaluator.criteria]
    for parameters in sweep:
        assert any(line.strip().startswith(parameter_label(parameters)) for line in lines)
    one_segment = next(line for line in lines if "baseline one_segment" in line)
    assert float(one_segment.split()[3]) == pytest.approx(0, abs=1e-9)  # voi_split
    assert "baseline every_voxel" in result.output and "best voi: " in result.output

    stored = create_stats_store().retrieve_validation_iteration_scores(config.name)[0]
    assert stored.parameters == sweep and stored.datasets == ["val"]
    assert stored.baselines["val"]["one_segment"]["voi_split"] == pytest.approx(0, abs=1e-9)

    result = CliRunner().invoke(cli, ["validate", "-r", config.name, "-i", "0", "--no-progress",
                                      "--no-baselines"])
    assert result.exit_code == 0 and "baseline" not in result.output, result.output
