"""Blockwise post-processing of a prediction with a task's post-processor: ``PostProcessTask``.

For post-processors whose output at a voxel depends on a bounded neighbourhood (thresholds,
argmax: none at all), each block reads its write ROI grown by ``context`` from the prediction
(decoded to the model's value range, see ``arrays.decode``), runs
``post_processor.process(parameters, data)`` on it and writes the part inside the write ROI.
Instance segmentations (whose ids must agree across blocks) go through ``segment_blockwise``'s
tasks instead. ``post_process_task`` picks the right one from what the post-processor declares
(``produces_instances``, ``context``, ``output_dtype``, ``output_channels``);
``post_process_blockwise`` runs it on a stored prediction.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
from funlib.geometry import Coordinate, Roi
from dacapo.experiments.datasplits.datasets.arrays.array_utils import read as read_array

from .arrays import array_attributes, crop, decode, open_output, prepare_output, write_cropped
from .bookkeeping import Bookkeeping
from .task import BlockwiseTask, WorkerContext, context_rois

_POST_PROCESSORS: dict = {}


def post_processor_of(task_config):
    """The post-processor of ``task_config`` (cached per process)."""
    key = repr(task_config)
    if key not in _POST_PROCESSORS:
        _POST_PROCESSORS[key] = task_config.task_type(task_config).post_processor
    return _POST_PROCESSORS[key]


def read_prediction(array, roi: Roi) -> tuple[Roi, np.ndarray]:
    """The prediction inside ``roi`` ∩ its ROI, decoded to float32: ``(roi read, data)``."""
    roi = roi.intersect(array.roi)
    return roi, decode(read_array(array, roi), array_attributes(array))


class PostProcessTask(BlockwiseTask):
    """Post-process ``prediction`` into ``output`` with ``task_config``'s post-processor."""

    def __init__(
        self,
        task_config,
        parameters,
        prediction,
        output,
        output_roi: Roi,
        voxel_size: Coordinate,
        block_shape: Coordinate,
        context: Coordinate,
        output_dtype,
        num_channels: Optional[int],
        overwrite: bool = False,
        task_id: str = "post_process",
        upstream_tasks=(),
        max_retries: int = 2,
        timeout: Optional[float] = None,
    ):
        super().__init__(
            task_id,
            **context_rois(output_roi, block_shape, context),
            bookkeeping=Bookkeeping.for_array(output.container, output.dataset),
            upstream_tasks=upstream_tasks,
            max_retries=max_retries,
            timeout=timeout,
        )
        self.task_config = task_config
        self.parameters = parameters
        self.prediction = prediction
        self.output = output
        self.output_roi = output_roi
        self.voxel_size = Coordinate(voxel_size)
        self.output_dtype = np.dtype(output_dtype)
        self.num_channels = num_channels
        self.overwrite = overwrite

    def fingerprint(self) -> dict:
        fingerprint = super().fingerprint()
        fingerprint.update(
            post_processor=repr(self.task_config),
            parameters=repr(self.parameters),
            prediction=[str(Path(self.prediction.container).resolve()), self.prediction.dataset],
            output=[str(Path(self.output.container).resolve()), self.output.dataset],
            dtype=str(self.output_dtype),
        )
        return fingerprint

    def outputs(self) -> list:
        return [self.output]

    def inputs(self) -> list:
        return [self.prediction]

    def prepare(self, resume: bool) -> bool:
        return prepare_output(
            self.output, self.output_roi, self.voxel_size, self.num_channels, self.output_dtype,
            self.block_shape, resume=resume, overwrite=self.overwrite,
            attributes={"dacapo": {"parameters": str(self.parameters)}}, job=self.fingerprint(),
        )

    def setup(self, worker: WorkerContext) -> None:
        self._resident_post_processor = post_processor_of(self.task_config)
        self._resident_prediction = open_output(self.prediction, "r")
        self._resident_output = open_output(self.output, "r+")

    def process_block(self, block) -> None:
        write = block.write_roi.intersect(self.output_roi)
        if write.empty:
            return
        read, data = read_prediction(self._resident_prediction, block.read_roi)
        result = np.asarray(self._resident_post_processor.process(self.parameters, data))
        result = crop(result, read, write, self.voxel_size)
        write_cropped(self._resident_output, write, result.astype(self.output_dtype, copy=False))


def post_process_task(
    task_config,
    parameters,
    prediction,
    output,
    output_roi: Roi,
    voxel_size: Coordinate,
    block_shape: Coordinate,
    num_channels: int,
    *,
    overwrite: bool = True,
    upstream_tasks=(),
    prefix: str = "post_process_",
) -> BlockwiseTask:
    """The last task writing ``output`` (world units throughout): the segment → merge →
    relabel chain for instance post-processors (stitched by a mutex watershed of the fragment
    graph, ``fragment_graph``), else a ``PostProcessTask``."""
    from .functions import post_processor as post_processor_function
    from .scheduler import as_array_config
    from .segment import segment_tasks

    post_processor = post_processor_of(task_config)
    voxel_size = Coordinate(voxel_size)
    context = Coordinate(post_processor.context(voxel_size.dims)) * voxel_size
    if post_processor.produces_instances:
        return segment_tasks(
            post_processor_function, as_array_config(prediction, name="post_process_prediction"),
            output, output_roi, voxel_size, block_shape, context,
            parameters={"task_config": task_config, "parameters": parameters},
            mutex=True, overwrite=overwrite,
            upstream_tasks=upstream_tasks, prefix=prefix,
        )
    return PostProcessTask(
        task_config, parameters, prediction, output, output_roi, voxel_size, block_shape,
        context, post_processor.output_dtype, post_processor.output_channels(num_channels),
        overwrite=overwrite, upstream_tasks=upstream_tasks, task_id=prefix.rstrip("_") or "post_process",
    )


def post_process_blockwise(
    task_config,
    parameters,
    prediction,
    output,
    block_shape,
    roi: Optional[Roi] = None,
    num_workers: int = 1,
    compute_context=None,
    overwrite: bool = True,
    progress: bool = False,
):
    """Post-process the stored ``prediction`` (an identifier or ``(container, dataset)``) into
    ``output`` with ``task_config``'s post-processor and ``parameters``, in blocks of
    ``block_shape`` voxels over ``roi`` (world units; default: the prediction's ROI). Instance
    segmentations come out as the whole-volume post-processing would give them, up to the
    stitching across blocks (see ``fragment_graph``). Returns the ``RunSummary``."""
    from .runner import run_tasks
    from .scheduler import as_identifier

    prediction, output = as_identifier(prediction), as_identifier(output)
    array = open_output(prediction, "r")
    voxel_size = Coordinate(array.voxel_size)
    dims = voxel_size.dims
    roi = array.roi if roi is None else Roi(roi.offset, roi.shape).intersect(array.roi)
    channels = int(array.shape[0]) if len(array.shape) > dims else 1
    task = post_process_task(
        task_config, parameters, prediction, output, roi, voxel_size,
        Coordinate(block_shape) * voxel_size, channels, overwrite=overwrite,
    )
    return run_tasks([task], num_workers=num_workers, compute_context=compute_context,
                     progress=progress)
