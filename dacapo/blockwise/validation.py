"""Validation of datasets larger than a voxel budget (``validation_max_voxels``), in bounded
memory: each sweep setting is post-processed blockwise from the stored prediction into the
array store (``post_process_task``, instances stitched as ``post_process_blockwise`` does) and
scored block by block from the evaluator's sufficient statistics (``Evaluator.statistics``:
exact for VOI, adapted Rand and the overlap criteria; distance criteria are NaN). Each output and
its jobs' bookkeeping are removed once scored: memory and disk hold one setting at a time."""

from __future__ import annotations

import logging
from typing import Callable

import numpy as np
from funlib.geometry import Coordinate, Roi

logger = logging.getLogger(__name__)

IN_PROCESS = {"type": "LocalTorch", "config": {}}


def block_shape_within(shape, max_voxels: int) -> Coordinate:
    """``shape`` (voxels) halved along its longest axis until it holds at most ``max_voxels``."""
    block = [int(s) for s in shape]
    while int(np.prod(block)) > max(int(max_voxels), 1) and max(block) > 1:
        axis = int(np.argmax(block))
        block[axis] = (block[axis] + 1) // 2
    return Coordinate(block)


def block_rois(roi: Roi, block: Coordinate):
    """The ROIs of a grid of ``block`` (world units) tiling ``roi``, cut at its end."""
    import itertools

    starts = [range(o, e, b) for o, e, b in zip(roi.begin, roi.end, block)]
    for start in itertools.product(*starts):
        yield Roi(start, block).intersect(roi)


def stream(statistics_of: Callable[[Roi], object], roi: Roi, block: Coordinate):
    """The sum of ``statistics_of(block ROI)`` over the blocks of ``roi``."""
    total = None
    for block_roi in block_rois(roi, block):
        part = statistics_of(block_roi)
        total = part if total is None else total + part
    return total


def sweep_blockwise(run, dataset, prediction_id, prediction, parameters, iteration: int,
                    array_store, max_voxels: int, baselines: bool, on_parameter=None):
    """``(scores per parameter (lists in the order of the evaluator's criteria), baselines by
    name)`` of ``dataset`` from its stored ``prediction``, in blocks of at most ``max_voxels``."""
    from dacapo.experiments.datasplits.datasets.arrays.array_utils import read as read_array

    from .arrays import open_output
    from .runner import all_tasks, run_tasks
    from .postprocess_task import post_process_task

    evaluator = run.task.evaluator
    criteria = list(evaluator.criteria)
    voxel_size = Coordinate(prediction.voxel_size)
    roi = prediction.roi
    block_shape = block_shape_within(roi.shape / voxel_size, max_voxels)
    block = block_shape * voxel_size
    channels = int(prediction.shape[0]) if len(prediction.shape) > voxel_size.dims else 1
    logger.info("validating %s on %s blockwise (blocks of %s voxels)", run.name, dataset.name,
                tuple(block_shape))

    def mask_at(block_roi):
        return None if dataset.mask is None else read_array(dataset.mask, block_roi)

    per_parameter = []
    for parameter in parameters:
        output_id = array_store.validation_output_array(run.name, iteration, parameter,
                                                        dataset.name)
        task = post_process_task(
            run.config.task_config, parameter, prediction_id, output_id, roi, voxel_size,
            block, channels, overwrite=True,
        )
        try:
            # in this process, wherever validation runs (not on the options' compute context)
            run_tasks([task], num_workers=1, compute_context=IN_PROCESS, resume=False,
                      progress=False)
            output = open_output(output_id, "r")
            scores = stream(
                lambda r: evaluator.statistics(read_array(output, r), read_array(dataset.gt, r),
                                               voxel_size, mask_at(r)),
                roi, block,
            ).scores().to_dict()
        finally:
            array_store.remove(output_id)
            for job in all_tasks([task]):  # its bookkeeping too (a later job starts afresh)
                job.bookkeeping.remove()
        per_parameter.append([float(scores[c]) for c in criteria])
        if on_parameter is not None:
            on_parameter()
    baseline_scores = {}
    if baselines:
        statistics = stream(
            lambda r: evaluator.baseline_statistics(read_array(dataset.gt, r), voxel_size,
                                                    mask_at(r)),
            roi, block,
        )
        if statistics is not None:
            baseline_scores = {name: result.to_dict()
                               for name, result in evaluator.baselines_of(statistics).items()}
    return per_parameter, baseline_scores
