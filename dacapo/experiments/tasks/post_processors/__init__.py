"""Post-processors and their parameter sweeps."""

from dacapo.utils.lazy import lazy_exports

_LAZY = {
    "PostProcessor": "dacapo.experiments.tasks.post_processors.post_processor",
    "PostProcessorParameters": "dacapo.experiments.tasks.post_processors.post_processor_parameters",
    "ThresholdPostProcessor": "dacapo.experiments.tasks.post_processors.threshold_post_processor",
    "ThresholdPostProcessorParameters": (
        "dacapo.experiments.tasks.post_processors.threshold_post_processor_parameters"
    ),
    "ArgmaxPostProcessor": "dacapo.experiments.tasks.post_processors.argmax_post_processor",
    "ArgmaxPostProcessorParameters": (
        "dacapo.experiments.tasks.post_processors.argmax_post_processor_parameters"
    ),
    "WatershedPostProcessor": (
        "dacapo.experiments.tasks.post_processors.watershed_post_processor"
    ),
    "WatershedPostProcessorParameters": (
        "dacapo.experiments.tasks.post_processors.watershed_post_processor_parameters"
    ),
    "HotDistancePostProcessor": (
        "dacapo.experiments.tasks.post_processors.hot_distance_post_processor"
    ),
    "ThresholdParameters": (
        "dacapo.experiments.tasks.post_processors.threshold_post_processor_parameters"
    ),
}

__all__ = list(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
