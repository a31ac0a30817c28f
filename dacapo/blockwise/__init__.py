"""Blockwise processing of large volumes with daisy: prediction with resident models,
post-processing, user worker and segment functions, and consistent instance ids across blocks.
Completed blocks are recorded next to each output, so every job resumes after a crash."""

from dacapo.utils.lazy import lazy_exports


_LAZY = {
    "BlockwiseTask": "dacapo.blockwise.task",
    "WorkerContext": "dacapo.blockwise.task",
    "Bookkeeping": "dacapo.blockwise.bookkeeping",
    "run_tasks": "dacapo.blockwise.runner",
    "BlockwiseError": "dacapo.blockwise.runner",
    "RunSummary": "dacapo.blockwise.runner",
    "run_blockwise": "dacapo.blockwise.scheduler",
    "segment_blockwise": "dacapo.blockwise.scheduler",
    "FunctionTask": "dacapo.blockwise.scheduler",
    "PredictTask": "dacapo.blockwise.predict_task",
    "PostProcessTask": "dacapo.blockwise.postprocess_task",
    "SegmentTask": "dacapo.blockwise.segment",
    "MergeTask": "dacapo.blockwise.segment",
    "RelabelTask": "dacapo.blockwise.segment",
    "segment_tasks": "dacapo.blockwise.segment",
    "encoding": "dacapo.blockwise.arrays",
    "encode": "dacapo.blockwise.arrays",
    "decode": "dacapo.blockwise.arrays",
}

__all__ = list(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
