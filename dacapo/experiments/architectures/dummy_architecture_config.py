from __future__ import annotations

import attrs

from dacapo.config import help_field, positive

from .architecture_config import ArchitectureConfig


@attrs.frozen
class DummyArchitectureConfig(ArchitectureConfig):
    """A single 3x3x3 valid convolution on a (40, 20, 20) input: for tests."""

    num_in_channels: int = help_field("Number of input channels.", validator=positive)
    num_out_channels: int = help_field("Number of output channels.", validator=positive)

    @property
    def architecture_type(self):
        from .dummy_architecture import DummyArchitecture

        return DummyArchitecture

    def verify(self) -> tuple[bool, str]:
        return True, "No validation for this architecture"
