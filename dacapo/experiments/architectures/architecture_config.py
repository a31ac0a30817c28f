from __future__ import annotations

import attrs

from dacapo.config import ConfigBase, help_field


@attrs.frozen
class ArchitectureConfig(ConfigBase):
    """Base of architecture configs; ``architecture_type(config)`` builds the runtime
    ``Architecture`` (a ``torch.nn.Module``)."""

    name: str = help_field("A unique name for this architecture.")

    @property
    def architecture_type(self):
        raise NotImplementedError(f"{type(self).__name__}.architecture_type")
