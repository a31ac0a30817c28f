"""dacapo-ml 0.3.5's ``DummyTrainerConfig``: a trainer for tests that feeds random raw and zero
targets of the model's shapes. As in the original, ``verify()`` reports it as never valid."""

from __future__ import annotations

import attrs

from dacapo.config import help_field

from .trainer_config import TrainerConfig


@attrs.frozen
class DummyTrainerConfig(TrainerConfig):
    mirror_augment: bool = help_field(
        "Dummy attribute (kept for the original's configs).", kw_only=True
    )

    @property
    def trainer_type(self):
        from .dummy_trainer import DummyTrainer

        return DummyTrainer

    def verify(self) -> tuple[bool, str]:
        return False, "This is a DummyTrainerConfig and is never valid"
