"""Evaluators and their scores (criteria know whether higher is better)."""

_M = "dacapo.experiments.tasks.evaluators."
_LAZY = {
    "Evaluator": _M + "evaluator",
    "EvaluationScores": _M + "evaluation_scores",
    "BinarySegmentationEvaluator": _M + "binary_segmentation_evaluator",
    "binary_segmentation_scores": _M + "binary_segmentation_evaluator",
    "BinarySegmentationEvaluationScores": _M + "binary_segmentation_evaluation_scores",
    "MultiChannelBinarySegmentationEvaluationScores": _M + "binary_segmentation_evaluation_scores",
    "OneHotEvaluator": _M + "one_hot_evaluator",
    "InstanceEvaluator": _M + "instance_evaluator",
    "instance_scores": _M + "instance_evaluator",
    "InstanceEvaluationScores": _M + "instance_evaluation_scores",
}

__all__ = list(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_LAZY))
