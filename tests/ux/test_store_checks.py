"""Storing a run runs the checks that need no data (``RunConfig.config_problem``): a run whose
``verify()`` fails on config grounds is refused before anything is stored; what needs the data
is checked by ``verify()`` and ``dacapo train``."""

from __future__ import annotations

import attrs
import pytest
from click.testing import CliRunner
from funlib.geometry import Coordinate

from dacapo.cli import cli
from dacapo.config import ConfigError


def test_a_run_failing_its_config_checks_is_not_stored(trained_run):
    from dacapo.store.create_store import create_config_store

    _, config = trained_run
    architecture = attrs.evolve(config.architecture_config, name="odd_unet")
    # a config changed after it was built (as a frozen attrs object can be): its checks now fail
    object.__setattr__(architecture, "input_shape", Coordinate(37, 36, 36))
    broken = attrs.evolve(config, name="odd_run", architecture_config=architecture)
    ok, message = broken.verify()
    assert not ok and "input_shape=(37, 36, 36)" in message

    store = create_config_store()
    with pytest.raises(ConfigError) as error:
        store.store_run_config(broken)
    line = str(error.value)
    assert "\n" not in line
    assert line.startswith("RunConfig 'odd_run': architecture_config: CNNectomeUNetConfig "
                           "'odd_unet': input_shape=(37, 36, 36)"), line
    assert line.endswith("; not stored"), line
    assert "odd_run" not in store.retrieve_run_config_names()
    assert "odd_unet" not in store.retrieve_architecture_config_names()  # no part either

    result = CliRunner().invoke(cli, ["train", "-r", "odd_run"])
    assert result.exit_code == 1 and "odd_run" in result.output, result.output
    assert "odd_run" not in CliRunner().invoke(cli, ["ls"]).output
