"""Config of an architecture imported from a bioimage.io model package (needs the optional
``bioimageio.spec``; imported only when the architecture is built or verified)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import attrs
from funlib.geometry import Coordinate

from dacapo.config import ConfigError, check, help_field
from dacapo.utils.paths import is_local_path, to_path

from .architecture_config import ArchitectureConfig
from .cnnectome_unet_config import _coord_field

WEIGHTS_FORMATS = ("pytorch_state_dict", "torchscript")


@attrs.frozen
class BioImageIOArchitectureConfig(ArchitectureConfig):
    """A bioimage.io model (a local package zip, its unpacked folder or its rdf.yaml) as an
    architecture to predict with or fine-tune: its weights (PyTorch state dict or TorchScript)
    and input axes (batch, channel, spatial). Read offline."""

    verify_reads_files = True  # the package: checked where it is (training), not when stored

    source: Path = help_field(
        "The bioimage.io package: a .zip, a folder holding rdf.yaml, or the rdf.yaml.",
        converter=to_path,
        validator=check(lambda p: is_local_path(p) and str(p) not in ("", "."), "must be a local path"),
    )
    weights_format: Optional[str] = help_field(
        f"One of {WEIGHTS_FORMATS}; None: the state dict if the package has one, else TorchScript.",
        default=None,
        validator=check(lambda v: v in WEIGHTS_FORMATS, f"must be one of {WEIGHTS_FORMATS}"),
    )
    input_shape: Optional[Coordinate] = help_field(
        "Spatial input shape (voxels); None: the package's (fixed or minimal) input size.",
        default=None,
        converter=_coord_field,
        validator=check(lambda c: c.dims > 0 and all(s > 0 for s in c), "must be positive"),
    )
    eval_shape_increase: Optional[Coordinate] = help_field(
        "Voxels added to the input shape when predicting (default: none).",
        default=None,
        converter=_coord_field,
        validator=check(lambda c: all(s >= 0 for s in c), "must be >= 0"),
    )

    def __attrs_post_init__(self) -> None:
        shape, increase = self.input_shape, self.eval_shape_increase
        if shape is not None and increase is not None and shape.dims != increase.dims:
            raise ConfigError(
                f"{type(self).__name__} {self.name!r}: eval_shape_increase={increase!r} has "
                f"{increase.dims} axes, input_shape has {shape.dims}"
            )

    @property
    def architecture_type(self):
        from .bioimageio import BioImageIOArchitecture

        return BioImageIOArchitecture

    def verify(self) -> tuple[bool, str]:
        from .bioimageio import load_package

        try:
            load_package(self)
        except ConfigError as error:
            return False, str(error)
        return True, f"{self.source} is a bioimage.io model"
