"""Configs and their runtime counterparts. Attribute access is lazy so that importing a config
does not import torch."""

from importlib import import_module
from typing import Any

from .run_config import RunConfig  # noqa: F401

_LAZY = {
    "Model": "dacapo.experiments.model",
    "Run": "dacapo.experiments.run",
    "TrainingIterationStats": "dacapo.experiments.training_iteration_stats",
    "TrainingStats": "dacapo.experiments.training_stats",
    "ValidationIterationScores": "dacapo.experiments.validation_iteration_scores",
    "ValidationScores": "dacapo.experiments.validation_scores",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'dacapo.experiments' has no attribute {name!r}")
