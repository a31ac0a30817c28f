"""dacapo-ml 0.3.5's ``DummyTrainerConfig``: a trainer for tests that feeds random raw and zero
targets of the model's shapes. Unlike the original (whose ``verify()`` called it never valid), it verifies: it trains here,
and training refuses runs that do not verify."""

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
        return True, "DummyTrainerConfig is valid (a stand-in trainer for tests)"
