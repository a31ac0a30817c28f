"""Trainer configs and (lazily imported) runtime trainers."""

from . import gp_augments  # noqa: F401
from .gunpowder_trainer_config import GunpowderTrainerConfig  # noqa: F401
from .trainer_config import TrainerConfig  # noqa: F401

_LAZY = {
    "Trainer": "dacapo.experiments.trainers.trainer",
    "GunpowderTrainer": "dacapo.experiments.trainers.gunpowder_trainer",
}

__all__ = ["TrainerConfig", "Trainer", "GunpowderTrainerConfig", "GunpowderTrainer"]


def __getattr__(name):
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
