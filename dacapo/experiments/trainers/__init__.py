"""Trainer configs and (lazily imported) runtime trainers."""

from . import gp_augments  # noqa: F401
from .gp_augments import AugmentConfig  # noqa: F401
from .dummy_trainer_config import DummyTrainerConfig  # noqa: F401
from .gunpowder_trainer_config import GunpowderTrainerConfig  # noqa: F401
from .trainer_config import TrainerConfig  # noqa: F401
from dacapo.utils.lazy import lazy_exports

_LAZY = {
    "Trainer": "dacapo.experiments.trainers.trainer",
    "GunpowderTrainer": "dacapo.experiments.trainers.gunpowder_trainer",
    "DummyTrainer": "dacapo.experiments.trainers.dummy_trainer",
}

__all__ = [
    "TrainerConfig", "Trainer", "GunpowderTrainerConfig", "GunpowderTrainer",
    "DummyTrainerConfig", "DummyTrainer",
]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
