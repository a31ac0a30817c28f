import attrs
import pytest

from dacapo.experiments.datasplits import TrainValidateDataSplitConfig
from dacapo.options import Options
from dacapo.utils.synthetic import write_cells

from e2e.helpers import dataset_config, small_run_config

# the validation volume sits off the origin, so views must carry the offset
VAL_OFFSET = (40, 80, 120)


@pytest.fixture(scope="package")
def trained_run(tmp_path_factory):
    """One tiny run trained 4 iterations (validated at 2 and 4, a snapshot at 3) for all the
    tests here: ``(options, run config)``. Its validation data lies at ``VAL_OFFSET``."""
    from dacapo.experiments.run import Run
    from dacapo.store.create_store import create_config_store
    from dacapo.train import train_run

    tmp_path = tmp_path_factory.mktemp("ux")
    with pytest.MonkeyPatch.context() as monkeypatch:
        for key in ("DACAPO_MONGODBHOST", "DACAPO_MONGODBNAME", "DACAPO_COMPUTE_CONTEXT"):
            monkeypatch.delenv(key, raising=False)
        monkeypatch.setenv("DACAPO_OPTIONS_FILE", str(tmp_path / "no-such-dacapo.yaml"))
        monkeypatch.setenv("DACAPO_RUNS_BASE_DIR", str(tmp_path / "runs"))
        monkeypatch.setenv("DACAPO_TYPE", "files")
        config = small_run_config(tmp_path, name="ux_run", iterations=4, validation_interval=2)
        val = write_cells(tmp_path / "val_offset.zarr", (48, 48, 48), voxel_size=(8, 8, 8),
                          offset=VAL_OFFSET, seed=3, num_objects=5)
        datasplit = attrs.evolve(
            config.datasplit_config, validate_configs=[dataset_config(val.container, "val")]
        )
        assert isinstance(datasplit, TrainValidateDataSplitConfig)
        config = attrs.evolve(config, datasplit_config=datasplit)
        create_config_store().store_run_config(config)
        train_run(Run(config))
        yield Options.instance(), config
