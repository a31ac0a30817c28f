from __future__ import annotations

from typing import ClassVar

import attrs

from dacapo.config import ConfigBase, help_field


@attrs.frozen
class ArchitectureConfig(ConfigBase):
    """Base of architecture configs; ``architecture_type(config)`` builds the runtime
    ``Architecture`` (a ``torch.nn.Module``)."""

    _abstract: ClassVar[bool] = True  # a family base: documents name one of its kinds

    name: str = help_field("A unique name for this architecture.")

    @property
    def architecture_type(self):
        raise self.kind_required("architecture_type")
