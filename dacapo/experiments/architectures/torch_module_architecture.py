"""Runtime of ``TorchModuleArchitectureConfig``: a user's ``torch.nn.Module`` as an Architecture."""

from __future__ import annotations

import importlib

import torch
from funlib.geometry import Coordinate

from dacapo.config import ConfigError

from .architecture import Architecture


def _error(config, field: str, value, problem: str) -> ConfigError:
    return ConfigError(f"{type(config).__name__} {config.name!r}: {field}={value!r} {problem}")


def import_module_class(config) -> type:
    module_name, _, qualname = config.module.partition(":")
    try:
        found = importlib.import_module(module_name)
    except Exception as exc:
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())
        raise _error(config, "module", config.module, f"cannot be imported ({reason})") from None
    for part in qualname.split("."):
        if not hasattr(found, part):
            raise _error(config, "module", config.module, f"names nothing: {module_name} has no {qualname}")
        found = getattr(found, part)
    if not (isinstance(found, type) and issubclass(found, torch.nn.Module)):
        raise _error(config, "module", config.module, f"is not a torch.nn.Module class (it is {found!r})")
    return found


class WrappedModule(Architecture):
    """A ``torch.nn.Module`` (``self.module``) as an Architecture: the output channels and
    shapes come from dry forwards (cached per shape)."""

    def __init__(
        self,
        config,
        module: torch.nn.Module,
        input_shape: Coordinate,
        num_in_channels: int,
        eval_shape_increase=None,
        num_out_channels=None,
        output_voxel_size_divisor=None,
    ):
        super().__init__()
        self.config = config
        self.module = module
        self._input_shape = Coordinate(input_shape)
        self._num_in_channels = int(num_in_channels)
        self._eval_shape_increase = (
            Coordinate(eval_shape_increase)
            if eval_shape_increase is not None
            else Coordinate((0,) * self._input_shape.dims)
        )
        self._divisor = output_voxel_size_divisor
        self._shapes: dict[Coordinate, tuple[int, Coordinate]] = {}
        channels, _ = self._dry_forward(self.input_shape)
        if num_out_channels not in (None, channels):
            raise _error(
                config,
                "num_out_channels",
                num_out_channels,
                f"does not match the {channels} channels {type(module).__name__} outputs",
            )
        self._num_out_channels = channels

    @property
    def _what(self) -> str:
        return getattr(self.config, "module", type(self.module).__name__)

    @property
    def input_shape(self) -> Coordinate:
        return self._input_shape

    @property
    def eval_shape_increase(self) -> Coordinate:
        return self._eval_shape_increase

    @property
    def num_in_channels(self) -> int:
        return self._num_in_channels

    @property
    def num_out_channels(self) -> int:
        return self._num_out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.module(x)

    def compute_output_shape(self, input_shape: Coordinate) -> Coordinate:
        return self._dry_forward(Coordinate(input_shape))[1]

    def scale(self, input_voxel_size: Coordinate) -> Coordinate:
        divisor = self._divisor
        return input_voxel_size if divisor is None else Coordinate(input_voxel_size) / Coordinate(divisor)

    def _dry_forward(self, shape: Coordinate) -> tuple[int, Coordinate]:
        """``(channels, spatial shape)`` of the output: on fake tensors, else (modules fake
        tensors cannot run) a CPU forward of zeros without gradients."""
        if shape in self._shapes:
            return self._shapes[shape]
        was_training = self.training
        self.eval()  # batch norm must not update its statistics
        try:
            try:
                from torch._subclasses.fake_tensor import FakeTensorMode

                with FakeTensorMode(allow_non_fake_inputs=True) as mode:
                    out_shape = tuple(self.module(mode.from_tensor(self._zeros(shape))).shape)
            except Exception:
                with torch.no_grad():
                    out_shape = tuple(self.module(self._zeros(shape)).shape)
        except Exception as exc:
            reason = " ".join(f"{type(exc).__name__}: {exc}".split())
            raise _error(
                self.config, "input_shape", shape, f"cannot be processed by {self._what} ({reason})"
            ) from None
        finally:
            self.train(was_training)
        if len(out_shape) != 2 + shape.dims or min(out_shape) <= 0:
            raise _error(
                self.config,
                "input_shape",
                shape,
                f"gives an output of shape {out_shape} from {self._what}, expected "
                f"(batch, channels, {shape.dims} positive spatial sizes)",
            )
        result = (int(out_shape[1]), Coordinate(int(s) for s in out_shape[2:]))
        self._shapes[shape] = result
        return result

    def _zeros(self, shape: Coordinate) -> torch.Tensor:
        parameter = next(self.module.parameters(), None)
        device = parameter.device if parameter is not None and parameter.device.type != "meta" else "cpu"
        return torch.zeros((1, self.num_in_channels, *shape), device=device)


class TorchModuleArchitecture(WrappedModule):
    """``config.module(**config.kwargs)`` as an Architecture."""

    def __init__(self, architecture_config):
        cls = import_module_class(architecture_config)
        try:
            module = cls(**architecture_config.kwargs)
        except Exception as exc:
            reason = " ".join(f"{type(exc).__name__}: {exc}".split())
            raise _error(
                architecture_config, "kwargs", architecture_config.kwargs, f"cannot build {cls.__name__} ({reason})"
            ) from None
        super().__init__(
            architecture_config,
            module,
            architecture_config.input_shape,
            architecture_config.num_in_channels,
            eval_shape_increase=architecture_config.eval_shape_increase,
            num_out_channels=architecture_config.num_out_channels,
            output_voxel_size_divisor=architecture_config.output_voxel_size_divisor,
        )
