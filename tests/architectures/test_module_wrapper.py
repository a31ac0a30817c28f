"""TorchModuleArchitectureConfig: a user's torch.nn.Module, named by import path, as a stored
architecture that trains end to end."""

from __future__ import annotations

import attrs
import numpy as np
import pytest
import torch
from funlib.geometry import Coordinate

from dacapo.config import ConfigError
from dacapo.experiments.architectures import TorchModuleArchitectureConfig

from . import module_wrapper_nets

NETS = module_wrapper_nets.__name__  # importable: tests/ is on sys.path (rootdir-relative packages)


def tiny(**changes) -> TorchModuleArchitectureConfig:
    fields = dict(
        name="tiny_wrapped",
        module=f"{NETS}:TinyConvNet",
        input_shape=(20, 20, 20),
        kwargs={"out_channels": 6, "width": 3},
        eval_shape_increase=(8, 8, 8),
    )
    fields.update(changes)
    return TorchModuleArchitectureConfig(**fields)


def one_line(excinfo) -> str:
    message = str(excinfo.value)
    assert "\n" not in message
    return message


def test_shapes_channels_and_forward():
    config = tiny()
    architecture = config.architecture_type(config)
    assert architecture.input_shape == Coordinate(20, 20, 20)
    assert architecture.eval_shape_increase == Coordinate(8, 8, 8)
    assert architecture.dims == 3
    assert architecture.num_in_channels == 1
    assert architecture.num_out_channels == 6  # from the dry forward
    assert architecture.compute_output_shape(Coordinate(28, 24, 20)) == Coordinate(24, 20, 16)
    assert architecture.scale(Coordinate(8, 8, 8)) == Coordinate(8, 8, 8)
    x = torch.rand(2, 1, 20, 20, 20)
    assert architecture(x).shape == (2, 6, 16, 16, 16)
    # the wrapped module's parameters are the architecture's (trained and checkpointed)
    assert {name for name, _ in architecture.named_parameters()} == {
        "module.layers.0.weight", "module.layers.0.bias", "module.layers.2.weight", "module.layers.2.bias",
    }
    upsampling = tiny(output_voxel_size_divisor=(2, 2, 1))
    assert upsampling.architecture_type(upsampling).scale(Coordinate(8, 8, 8)) == Coordinate(4, 4, 8)


def test_modules_fake_tensors_cannot_run_use_a_real_forward():
    config = TorchModuleArchitectureConfig("dd", module=f"{NETS}:DataDependent", input_shape=(10, 12))
    architecture = config.architecture_type(config)
    assert architecture.num_out_channels == 2
    assert architecture.compute_output_shape(Coordinate(10, 12)) == Coordinate(8, 10)


@pytest.mark.parametrize(
    "changes, fragment",
    [
        ({"module": "no_such_package.nets:Net"}, "module='no_such_package.nets:Net' cannot be imported (ModuleNotFoundError"),
        ({"module": f"{NETS}:Missing"}, f"names nothing: {NETS} has no Missing"),
        ({"module": f"{NETS}:NOT_A_MODULE"}, "is not a torch.nn.Module class (it is 42)"),
        ({"kwargs": {"depth": 3}}, "kwargs={'depth': 3} cannot build TinyConvNet (TypeError"),
        ({"num_out_channels": 5}, "num_out_channels=5 does not match the 6 channels TinyConvNet outputs"),
        ({"input_shape": (4, 4, 4)}, "input_shape=(4, 4, 4) cannot be processed by"),
    ],
)
def test_build_errors_are_one_line(changes, fragment):
    config = tiny(**changes)
    with pytest.raises(ConfigError) as excinfo:
        config.architecture_type(config)
    message = one_line(excinfo)
    assert message.startswith("TorchModuleArchitectureConfig 'tiny_wrapped': ")
    assert fragment in message
    if "module" in changes:
        ok, reason = config.verify()
        assert not ok and fragment in reason


@pytest.mark.parametrize(
    "changes, fragment",
    [
        ({"module": "nets.TinyConvNet"}, "module='nets.TinyConvNet' must look like 'package.module:ClassName'"),
        ({"kwargs": {"f": object()}}, "must be a dict of plain values"),
        ({"kwargs": {"f": float("nan")}}, "must be a dict of plain values"),
        ({"eval_shape_increase": (8, 8)}, "eval_shape_increase=(8, 8) has 2 axes, input_shape has 3"),
        ({"input_shape": (20, 0, 20)}, "input_shape=(20, 0, 20) must be positive"),
        ({"num_in_channels": 0}, "num_in_channels=0 must be > 0"),
    ],
)
def test_config_errors_are_one_line(changes, fragment):
    with pytest.raises(ConfigError) as excinfo:
        tiny(**changes)
    assert fragment in one_line(excinfo)


def test_round_trips_through_the_file_config_store(options):
    from dacapo.store.create_store import create_config_store

    config = tiny(kwargs={"out_channels": 6, "width": 3, "extra": {"a": [1, 2.5, None, "x"]}})
    store = create_config_store()
    store.store_architecture_config(config)
    assert store.retrieve_architecture_config(config.name) == config


@pytest.mark.slow
def test_trains_end_to_end(options, tmp_path):
    from dacapo.experiments.run import Run
    from dacapo.store.create_store import create_config_store, create_stats_store, create_weights_store
    from dacapo.train import train_run
    from e2e.helpers import small_run_config

    architecture = tiny(input_shape=(24, 24, 24), kwargs={"out_channels": 4, "width": 4})
    config = attrs.evolve(
        small_run_config(tmp_path, name="wrapped_run", iterations=2, validation_interval=2),
        architecture_config=architecture,
    )
    store = create_config_store()
    store.store_run_config(config)
    run = Run(store.retrieve_run_config(config.name))
    before = {k: v.clone() for k, v in run.model.architecture.state_dict().items()}
    train_run(run)

    stats = create_stats_store().retrieve_training_stats(config.name)
    assert [s.iteration for s in stats.iteration_stats] == [0, 1]
    assert all(np.isfinite(s.loss) for s in stats.iteration_stats)
    assert [s.iteration for s in create_stats_store().retrieve_validation_iteration_scores(config.name)] == [2]
    weights = create_weights_store().retrieve_weights(config.name, 2)["model"]
    trained = weights["architecture.module.layers.0.weight"]
    assert not torch.equal(trained, before["module.layers.0.weight"])
