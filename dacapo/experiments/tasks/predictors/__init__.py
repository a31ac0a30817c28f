"""Predictors: model heads and training targets/weights."""

_LAZY = {
    "Predictor": "dacapo.experiments.tasks.predictors.predictor",
    "DistancePredictor": "dacapo.experiments.tasks.predictors.distance_predictor",
    "OneHotPredictor": "dacapo.experiments.tasks.predictors.one_hot_predictor",
    "AffinitiesPredictor": "dacapo.experiments.tasks.predictors.affinities_predictor",
    "InnerDistancePredictor": "dacapo.experiments.tasks.predictors.inner_distance_predictor",
    "HotDistancePredictor": "dacapo.experiments.tasks.predictors.hot_distance_predictor",
}

__all__ = list(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_LAZY))
