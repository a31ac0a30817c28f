from __future__ import annotations

from typing import ClassVar

import attrs

from dacapo.config import ConfigBase, help_field, positive


@attrs.frozen
class TrainerConfig(ConfigBase):
    """Base of trainer configs; ``trainer_type(config)`` builds the runtime ``Trainer``."""

    _abstract: ClassVar[bool] = True  # a family base: documents name one of its kinds

    name: str = help_field("A unique name for this trainer.")
    batch_size: int = help_field(
        "Number of samples per training batch.", default=1, validator=positive
    )
    learning_rate: float = help_field(
        "Initial learning rate of the optimizer.", default=1e-4, validator=positive
    )

    @property
    def trainer_type(self):
        raise self.kind_required("trainer_type")
