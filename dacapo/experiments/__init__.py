"""Configs and their runtime counterparts. Attribute access is lazy so that importing a config
does not import torch."""

from dacapo.utils.lazy import lazy_exports

from .run_config import RunConfig  # noqa: F401

_LAZY = {
    "Model": "dacapo.experiments.model",
    "Run": "dacapo.experiments.run",
    "TrainingIterationStats": "dacapo.experiments.training_iteration_stats",
    "TrainingStats": "dacapo.experiments.training_stats",
    "ValidationIterationScores": "dacapo.experiments.validation_iteration_scores",
    "ValidationScores": "dacapo.experiments.validation_scores",
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
