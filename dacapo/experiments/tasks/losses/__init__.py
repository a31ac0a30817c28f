"""Losses (torch is imported on first use)."""

_LAZY = {
    "Loss": "dacapo.experiments.tasks.losses.loss",
    "MSELoss": "dacapo.experiments.tasks.losses.mse_loss",
    "CrossEntropyLoss": "dacapo.experiments.tasks.losses.cross_entropy_loss",
    "AffinitiesLoss": "dacapo.experiments.tasks.losses.affinities_loss",
    "HotDistanceLoss": "dacapo.experiments.tasks.losses.hot_distance_loss",
}

__all__ = list(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_LAZY))
