"""``run_blockwise`` and ``segment_blockwise``: user functions over large volumes with daisy.

Worker files for ``run_blockwise`` (a ``.py`` path, a module name, either with ``:function``,
or a callable) define

- ``process_block(block, **parameters)`` (or ``process_function``): called for every block;
- optionally ``setup(**parameters)``: called once per worker before its first block; if it
  returns a dict, its items are passed to ``process_block`` as extra keyword arguments (open
  arrays, a model, ...);
- optionally ``teardown(**parameters)``.

Segment function files for ``segment_blockwise`` define
``segment_function(input_array, block, **parameters)`` returning the labels (any integers, 0 =
background) of ``block.read_roi``; ids are made unique per block and consistent across blocks
(see ``dacapo.blockwise.segment``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np
from funlib.geometry import Coordinate, Roi

from dacapo.compat import original_arguments

from .bookkeeping import Bookkeeping
from .loading import describe, load_function
from .runner import run_tasks
from .task import BlockwiseTask, WorkerContext

logger = logging.getLogger(__name__)

PROCESS_FUNCTION_NAMES = ("process_block", "process_function")


def as_identifier(value):
    """A ``LocalArrayIdentifier`` from an identifier, ``(container, dataset)`` or a path
    ``.../container.zarr/dataset`` (or ``.n5``)."""
    from dacapo.store.array_store import LocalArrayIdentifier

    if value is None or isinstance(value, LocalArrayIdentifier):
        return value
    if hasattr(value, "container") and hasattr(value, "dataset"):
        return LocalArrayIdentifier(Path(value.container), str(value.dataset))
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return LocalArrayIdentifier(Path(value[0]), str(value[1]))
    path = Path(str(value))
    parts = path.parts
    for i, part in enumerate(parts):
        if part.endswith((".zarr", ".n5", ".zr")) and i + 1 < len(parts):
            return LocalArrayIdentifier(Path(*parts[: i + 1]), "/".join(parts[i + 1 :]))
    raise ValueError(
        f"{value!r} does not name an array: give (container, dataset) or a path "
        "'container.zarr/dataset'"
    )


def as_array_config(value, name: str = "blockwise_input"):
    """An ``ArrayConfig`` from an array config or anything ``as_identifier`` takes."""
    from dacapo.experiments.datasplits.datasets.arrays import ArrayConfig, ZarrArrayConfig

    if isinstance(value, ArrayConfig):
        return value
    identifier = as_identifier(value)
    return ZarrArrayConfig(
        name=name, file_name=Path(identifier.container), dataset=identifier.dataset, mode="r"
    )


def _roi(value, dims: Optional[int] = None) -> Roi:
    """A ``Roi``; a shape (sequence or ``Coordinate``) means a ROI at the origin."""
    if isinstance(value, Roi):
        return value
    if hasattr(value, "offset") and hasattr(value, "shape"):
        return Roi(value.offset, value.shape)
    shape = Coordinate(value)
    return Roi((0,) * len(shape), shape)


class FunctionTask(BlockwiseTask):
    """A user's worker file/function over blocks (see the module's docstring)."""

    def __init__(self, worker, task_id: str, total_roi: Roi, read_roi: Roi, write_roi: Roi,
                 parameters: Optional[dict] = None, **kwargs):
        super().__init__(task_id, total_roi, read_roi, write_roi, **kwargs)
        self.worker = worker
        self.parameters = dict(parameters or {})

    #: ``(output identifier, prepare_output arguments)`` of the output array this task creates
    created_output = None

    def fingerprint(self) -> dict:
        fingerprint = super().fingerprint()
        fingerprint.update(worker=describe(self.worker), parameters=repr(sorted(self.parameters.items())))
        return fingerprint

    def outputs(self) -> list:
        return [] if self.created_output is None else [self.created_output[0]]

    def inputs(self) -> list:
        if "input_container" in self.parameters and "input_dataset" in self.parameters:
            return [as_identifier((self.parameters["input_container"], self.parameters["input_dataset"]))]
        return []

    def prepare(self, resume: bool) -> Optional[bool]:
        if self.created_output is None:
            return None
        from .arrays import prepare_output

        output, arguments = self.created_output
        return prepare_output(output, **arguments, resume=resume, overwrite=self.overwrite,
                              job=self.fingerprint())

    def setup(self, worker: WorkerContext) -> None:
        function, module = load_function(self.worker, PROCESS_FUNCTION_NAMES)
        arguments = dict(self.parameters)
        module_setup = getattr(module, "setup", None) if module is not None else None
        if callable(module_setup):
            state = module_setup(**self.parameters)
            if isinstance(state, dict):
                arguments.update(state)
        self._resident_function = function
        self._resident_module = module
        self._resident_arguments = arguments

    def process_block(self, block) -> None:
        self._resident_function(block, **self._resident_arguments)

    def teardown(self) -> None:
        module = self.__dict__.get("_resident_module")
        module_teardown = getattr(module, "teardown", None) if module is not None else None
        if callable(module_teardown):
            module_teardown(**self.parameters)


def _task_id(worker, default: str) -> str:
    import re

    if callable(worker):
        name = getattr(worker, "__name__", default)
    else:
        target = str(worker).split(":")[0]
        if target.endswith(".py") or "/" in target:
            name = Path(target).stem
        else:
            name = target.rsplit(".", 1)[-1]
    return re.sub(r"[^A-Za-z0-9_]", "_", name) or default


def _user_output(parameters: dict, total_write_roi: Roi, block_shape: Coordinate,
                 output_dtype, channels_out: Optional[int],
                 voxel_size: Optional[Coordinate]) -> tuple:
    """``FunctionTask.created_output``: ``output_container/output_dataset`` over the blocks'
    region (chunks = blocks), with the input's voxel size."""
    output = as_identifier((parameters["output_container"], parameters["output_dataset"]))
    if voxel_size is None:
        if "input_container" in parameters and "input_dataset" in parameters:
            voxel_size = as_array_config(
                (parameters["input_container"], parameters["input_dataset"])
            ).array("r").voxel_size
        else:
            voxel_size = Coordinate((1,) * total_write_roi.dims)
    voxel_size = Coordinate(voxel_size)
    return output, dict(
        roi=total_write_roi.snap_to_grid(voxel_size, mode="grow"), voxel_size=voxel_size,
        num_channels=channels_out, dtype=output_dtype, block_shape=block_shape,
    )


def run_blockwise(
    worker_file,
    total_roi: Roi,
    read_roi: Roi,
    write_roi: Roi,
    num_workers: int = 1,
    max_retries: int = 2,
    timeout: Optional[float] = None,
    upstream_tasks: Optional[Sequence[BlockwiseTask]] = None,
    *,
    compute_context=None,
    bookkeeping=None,
    read_write_conflict: bool = False,
    fit: str = "overhang",
    task_id: Optional[str] = None,
    resume: bool = True,
    overwrite: bool = False,
    output_dtype=None,
    channels_out: Optional[int] = None,
    voxel_size=None,
    progress: bool = True,
    **parameters: Any,
) -> bool:
    """Run ``worker_file`` (see the module docstring) on every block of ``total_roi`` (the
    total *read* ROI, as in daisy) with block ``read_roi``/``write_roi``. ``parameters`` go to
    the worker's ``setup`` and ``process_block``.

    With ``output_container``/``output_dataset`` parameters, the output array is created (when
    ``output_dtype`` is given; ``channels_out`` adds a channel axis; an existing one is resumed
    by the same job, replaced for another job only with ``overwrite`` and never when DaCapo did
    not create it) and completed blocks are recorded next to it, so a rerun resumes; ``bookkeeping`` (a directory) does the same for
    workers without an output array. Returns True when every block succeeded (else raises
    ``BlockwiseError``)."""
    total_roi, read_roi, write_roi = _roi(total_roi), _roi(read_roi), _roi(write_roi)
    origin = Coordinate((0,) * read_roi.dims)
    if read_roi.offset == origin and write_roi.offset == origin and read_roi.shape != write_roi.shape:
        # sizes given: centre the write ROI in the read ROI
        context = (read_roi.shape - write_roi.shape) / 2
        write_roi = Roi(context, write_roi.shape)
    task_id = task_id or _task_id(worker_file, "blockwise")
    if bookkeeping is None and "output_container" in parameters and "output_dataset" in parameters:
        bookkeeping = Bookkeeping.for_array(
            parameters["output_container"], str(parameters["output_dataset"])
        )
    elif bookkeeping is not None and not isinstance(bookkeeping, Bookkeeping):
        bookkeeping = Bookkeeping(bookkeeping)
    task = FunctionTask(
        worker_file, task_id, total_roi, read_roi, write_roi, parameters=parameters,
        read_write_conflict=read_write_conflict, fit=fit, max_retries=max_retries,
        timeout=timeout, bookkeeping=bookkeeping, upstream_tasks=upstream_tasks or (),
    )
    task.overwrite = overwrite
    if output_dtype is not None and "output_container" in parameters and "output_dataset" in parameters:
        task.created_output = _user_output(
            parameters, task.total_write_roi, task.block_shape, np.dtype(output_dtype),
            channels_out, voxel_size,
        )
    run_tasks([task], num_workers=num_workers, compute_context=compute_context,
              resume=resume, progress=progress)
    return True


@original_arguments(renamed={"keep_tmpdir": "keep_fragments"})
def segment_blockwise(
    segment_function_file,
    context,
    total_roi: Roi,
    read_roi: Optional[Roi],
    write_roi: Roi,
    num_workers: int = 1,
    max_retries: int = 2,
    timeout: Optional[float] = None,
    upstream_tasks: Optional[Sequence[BlockwiseTask]] = None,
    tmp_prefix: str = "tmp",
    *,
    input_array_identifier=None,
    output_array_identifier=None,
    parameters: Optional[dict] = None,
    compute_context=None,
    min_overlap: float = 0.5,
    overwrite: bool = False,
    keep_fragments: bool = False,
    resume: bool = True,
    progress: bool = True,
    **kwargs: Any,
) -> bool:
    """Segment ``total_roi`` (world units, the output region) of ``input_array_identifier``
    blockwise with ``segment_function_file`` (a file/module defining ``segment_function``, or
    a callable ``(input_array, block, **parameters) -> labels of block.read_roi``) into
    ``output_array_identifier`` (uint64), with instance ids consistent across blocks.

    Blocks write ``write_roi`` and read it grown by ``context`` (world units; ``None``: taken
    from ``read_roi``). ``parameters`` (and any extra keyword arguments) go to the segment
    function. ``tmp_prefix`` is accepted for compatibility: intermediate fragments are kept next
    to the output (``<container>/.blockwise/``) so that the job can resume, and removed at the
    end unless ``keep_fragments``. Returns True when every block succeeded."""
    from .segment import chain_complete, segment_tasks

    if input_array_identifier is None or output_array_identifier is None:
        raise ValueError("segment_blockwise needs input_array_identifier and output_array_identifier")
    total_roi = _roi(total_roi)
    write_roi = _roi(write_roi)
    if context is None:
        context = Coordinate((0,) * write_roi.dims) if read_roi is None else (
            write_roi.offset - _roi(read_roi).offset
            if _roi(read_roi).offset != write_roi.offset
            else (_roi(read_roi).shape - write_roi.shape) / 2
        )
    context = Coordinate(context)
    input_config = as_array_config(input_array_identifier)
    output = as_identifier(output_array_identifier)
    voxel_size = Coordinate(input_config.array("r").voxel_size)
    for what, value in (("context", context), ("block size", write_roi.shape)):
        if any(int(v) % int(s) for v, s in zip(value, voxel_size)):
            raise ValueError(f"segment_blockwise: {what} {value} is not a multiple of the voxel size {voxel_size}")
    total_roi = total_roi.snap_to_grid(voxel_size, mode="grow")
    all_parameters = dict(parameters or {})
    all_parameters.update(kwargs)
    relabel = segment_tasks(
        segment_function_file, input_config, output, total_roi, voxel_size, write_roi.shape,
        context, parameters=all_parameters, min_overlap=min_overlap, overwrite=overwrite,
        keep_fragments=keep_fragments, upstream_tasks=upstream_tasks or (),
        max_retries=max_retries, timeout=timeout,
    )
    if resume and chain_complete(relabel):
        logger.info("segment_blockwise: %s is complete", output.dataset)
        return True
    run_tasks([relabel], num_workers=num_workers, compute_context=compute_context,
              resume=resume, progress=progress)
    return True
