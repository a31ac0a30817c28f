"""Evaluators and their scores (criteria know whether higher is better)."""

from dacapo.utils.lazy import lazy_exports

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

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
