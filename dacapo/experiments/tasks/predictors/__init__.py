"""Predictors: model heads and training targets/weights."""

from dacapo.utils.lazy import lazy_exports

_LAZY = {
    "Predictor": "dacapo.experiments.tasks.predictors.predictor",
    "DistancePredictor": "dacapo.experiments.tasks.predictors.distance_predictor",
    "OneHotPredictor": "dacapo.experiments.tasks.predictors.one_hot_predictor",
    "AffinitiesPredictor": "dacapo.experiments.tasks.predictors.affinities_predictor",
    "InnerDistancePredictor": "dacapo.experiments.tasks.predictors.inner_distance_predictor",
    "HotDistancePredictor": "dacapo.experiments.tasks.predictors.hot_distance_predictor",
    "DummyPredictor": "dacapo.experiments.tasks.dummy_task",
}

__all__ = list(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
