"""Config of an architecture made of any ``torch.nn.Module`` class named by its import path.

Only attrs and funlib.geometry are imported here; the class is imported when the architecture
is built (``TorchModuleArchitecture``) or verified, never when the config is constructed.
"""

from __future__ import annotations

import math
import re
from typing import Any, Optional

import attrs
from funlib.geometry import Coordinate

from dacapo.config import ConfigError, check, help_field, positive

from .architecture_config import ArchitectureConfig
from .cnnectome_unet_config import _coord_field

IMPORT_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


def _is_plain(value: Any) -> bool:
    """YAML/JSON-storable keyword argument values: None, bool, int, finite float, str, and lists
    and str-keyed dicts of them."""
    if value is None or isinstance(value, (bool, int, str)):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, (list, tuple)):
        return all(_is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_plain(v) for k, v in value.items())
    return False


def _to_kwargs(value: Any) -> Any:
    return dict(value) if isinstance(value, dict) else value


@attrs.frozen
class TorchModuleArchitectureConfig(ArchitectureConfig):
    """Any ``torch.nn.Module`` class, e.g. ``module='my_package.nets:MyUNet'`` built as
    ``MyUNet(**kwargs)``. It takes ``(batch, num_in_channels, *input_shape)`` and returns
    ``(batch, channels, *spatial)``; the output shape (and, unless given, the number of output
    channels) is found by a dry forward on fake tensors (no memory, no compute), or a small CPU
    forward for modules that fake tensors cannot run; results are cached per shape. The output
    has the input's voxel size unless ``output_voxel_size_divisor`` says otherwise."""

    verify_reads_files = True  # imports the module: checked where it runs, not when stored

    module: str = help_field(
        "Import path of the torch.nn.Module class: 'package.module:ClassName'.",
        validator=check(lambda v: IMPORT_PATH.fullmatch(v) is not None, "must look like 'package.module:ClassName'"),
    )
    input_shape: Coordinate = help_field(
        "Spatial shape (voxels) of the training input.",
        converter=_coord_field,
        validator=check(lambda c: c.dims > 0 and all(s > 0 for s in c), "must be positive"),
    )
    kwargs: dict[str, Any] = help_field(
        "Keyword arguments of the class (plain YAML values).",
        factory=dict,
        converter=_to_kwargs,
        validator=check(lambda v: isinstance(v, dict) and _is_plain(v), "must be a dict of plain values (str keys)"),
    )
    num_in_channels: int = help_field("Number of input channels.", default=1, validator=positive)
    num_out_channels: Optional[int] = help_field(
        "Number of output channels; None: found by a dry forward.", default=None, validator=positive
    )
    eval_shape_increase: Optional[Coordinate] = help_field(
        "Voxels added to input_shape when predicting (default: none).",
        default=None,
        converter=_coord_field,
        validator=check(lambda c: all(s >= 0 for s in c), "must be >= 0"),
    )
    output_voxel_size_divisor: Optional[Coordinate] = help_field(
        "The output voxel size is the input voxel size divided by this (an upsampling network: "
        "2, 2, 2); default: the input voxel size.",
        default=None,
        converter=_coord_field,
        validator=check(lambda c: all(s > 0 for s in c), "must be positive"),
    )

    def __attrs_post_init__(self) -> None:
        for field in ("eval_shape_increase", "output_voxel_size_divisor"):
            value = getattr(self, field)
            if value is not None and value.dims != self.input_shape.dims:
                raise ConfigError(
                    f"{type(self).__name__} {self.name!r}: {field}={value!r} has {value.dims} axes, "
                    f"input_shape has {self.input_shape.dims}"
                )

    @property
    def architecture_type(self):
        from .torch_module_architecture import TorchModuleArchitecture

        return TorchModuleArchitecture

    @property
    def dims(self) -> int:
        return self.input_shape.dims

    def module_class(self) -> type:
        """The class named by ``module``; a one-line ``ConfigError`` if it cannot be imported
        or is not a ``torch.nn.Module``."""
        from .torch_module_architecture import import_module_class

        return import_module_class(self)

    def verify(self) -> tuple[bool, str]:
        try:
            self.module_class()
        except ConfigError as error:
            return False, str(error)
        return True, f"{self.module} is a torch.nn.Module"
