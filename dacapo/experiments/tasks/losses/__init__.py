"""Losses (torch is imported on first use)."""

from dacapo.utils.lazy import lazy_exports

_LAZY = {
    "Loss": "dacapo.experiments.tasks.losses.loss",
    "MSELoss": "dacapo.experiments.tasks.losses.mse_loss",
    "CrossEntropyLoss": "dacapo.experiments.tasks.losses.cross_entropy_loss",
    "AffinitiesLoss": "dacapo.experiments.tasks.losses.affinities_loss",
    "HotDistanceLoss": "dacapo.experiments.tasks.losses.hot_distance_loss",
    "DummyLoss": "dacapo.experiments.tasks.losses.dummy_loss",
}

__all__ = list(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
