"""``RunConfig.verify()`` follows voxel sizes from raw through the model to gt and mask, for
training and validation data, and ``dacapo train`` runs the same checks before it creates
anything."""

import attrs
import pytest
from click.testing import CliRunner

from dacapo.cli import cli
from dacapo.store.create_store import create_config_store

from e2e.helpers import small_run_config


@pytest.fixture(scope="module")
def written_config(tmp_path_factory):
    return small_run_config(tmp_path_factory.mktemp("chain"), shape=(48, 48, 48))


def _gt_at(config, which: str, voxel_size):
    datasplit = config.datasplit_config
    datasets = getattr(datasplit, which)
    gt = datasets[0].gt_config
    gt = attrs.evolve(gt, source_array_config=attrs.evolve(gt.source_array_config, voxel_size=voxel_size))
    changed = [attrs.evolve(datasets[0], gt_config=gt), *datasets[1:]]
    return attrs.evolve(config, name=f"gt_4nm_{which}",
                        datasplit_config=attrs.evolve(datasplit, **{which: changed}))


@pytest.mark.parametrize("which,dataset", [("train_configs", "train"), ("validate_configs", "val")])
def test_gt_finer_than_the_model_output(written_config, options, which, dataset):
    config = _gt_at(written_config, which, (4, 4, 4))
    ok, message = config.verify()
    assert not ok and "\n" not in message
    assert message.startswith(f"RunConfig {config.name!r}: dataset {dataset!r}: gt voxel size (4, 4, 4) "
                              "!= model output voxel size (8, 8, 8) (raw at (8, 8, 8) through "
                              "architecture 'tiny_unet')")

    create_config_store().store_run_config(config)
    result = CliRunner().invoke(cli, ["train", "-r", config.name])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [f"Error: {message}"]
    assert not (options.runs_base_dir / config.name).exists()  # nothing created


def test_a_fitting_config_verifies(written_config, options):
    ok, message = written_config.verify()
    assert ok, message
