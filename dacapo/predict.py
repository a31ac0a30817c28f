"""``predict``: blockwise prediction of a volume with a trained run, with daisy.

Blocks are the model's eval shapes (``BlockPredictor``'s geometry): the result equals a single
forward pass over the whole output ROI for valid-padded networks. Workers (the compute context
of the options: ``LocalTorch``, ``Bsub`` or ``Slurm``) build the model and load the weights
once, then take blocks until none is left. Completed blocks are recorded next to the output
(``<container>/.blockwise/<dataset>/``): rerunning an interrupted prediction computes only the
missing blocks.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Optional, Union

import numpy as np
from funlib.geometry import Coordinate, Roi

logger = logging.getLogger(__name__)

_CONTAINER_SUFFIXES = (".zarr", ".n5", ".zr")


def parse_roi(value) -> Optional[Roi]:
    """A ``Roi`` from a ``Roi``, ``None``, or a string ``"[z0:z1, y0:y1, x0:x1]"`` (world
    units, begin:end per axis, as the original DaCapo's ``--roi``)."""
    if value is None or isinstance(value, Roi):
        return value
    if hasattr(value, "offset") and hasattr(value, "shape"):
        return Roi(value.offset, value.shape)
    text = str(value).strip()
    if not re.fullmatch(r"\[?\s*-?\d+\s*:\s*-?\d+(\s*,\s*-?\d+\s*:\s*-?\d+)*\s*\]?", text):
        raise ValueError(
            f"cannot read the ROI {value!r}: write it as [begin:end, begin:end, ...] in world units"
        )
    begins, ends = [], []
    for part in text.strip("[] ").split(","):
        begin, end = (int(v) for v in part.split(":"))
        if end <= begin:
            raise ValueError(f"ROI {value!r}: end {end} must be greater than begin {begin}")
        begins.append(begin)
        ends.append(end)
    return Roi(Coordinate(begins), Coordinate(ends) - Coordinate(begins))


def parse_coordinate(value) -> Optional[Coordinate]:
    """``Coordinate`` from a sequence or a string ``"[a, b, c]"`` / ``"a,b,c"``."""
    if value is None or isinstance(value, Coordinate):
        return value
    if isinstance(value, str):
        value = [int(v) for v in value.strip("[]() ").split(",") if v.strip()]
    return Coordinate(value)


def output_identifier(output_path, input_container, dataset: str):
    """Where an output goes: an identifier as it is; a path inside a container
    (``out.zarr/name``) names container and dataset; a container path (``out.zarr``) gets
    ``dataset``; any other path is a directory that gets ``<input container stem>.zarr``."""
    from dacapo.store.array_store import LocalArrayIdentifier

    if hasattr(output_path, "container") and hasattr(output_path, "dataset"):
        return LocalArrayIdentifier(Path(output_path.container), str(output_path.dataset))
    path = Path(output_path).expanduser()
    parts = path.parts
    for i, part in enumerate(parts):
        if part.endswith(_CONTAINER_SUFFIXES):
            container = Path(*parts[: i + 1])
            rest = "/".join(parts[i + 1 :])
            return LocalArrayIdentifier(container, rest or dataset)
    return LocalArrayIdentifier(path / f"{Path(str(input_container)).stem}.zarr", dataset)


def predict(
    run_name: str,
    iteration: Optional[int],
    input_container: Union[str, Path],
    input_dataset: str,
    output_path,
    output_roi: Optional[Union[Roi, str]] = None,
    num_workers: int = 1,
    output_dtype=np.float32,
    overwrite: bool = False,
    *,
    compute_context=None,
    progress: bool = True,
    padding: Optional[str] = None,
    full_size: bool = False,
):
    """Predict ``input_dataset`` of ``input_container`` with run ``run_name`` at checkpoint
    ``iteration`` (None: the latest) into ``output_path`` (see ``output_identifier``; the
    default dataset is ``prediction_<run>_<iteration>``).

    ``output_roi`` (world units; default: the input's ROI less the model's context, or all of it
    with ``full_size``) is snapped outward to the voxel grid; input outside the input's ROI is
    filled as ``padding`` says: ``"zero"``, or ``"reflect"`` (mirrored at the border, as
    ``numpy.pad(mode="reflect")``; the default with ``full_size``). ``output_dtype``
    float32 stores predictions as they are; integer types store them scaled (see
    ``dacapo.blockwise.arrays``: uint8 holds tanh outputs as ``round(127 x) + 127``), with
    ``scale_factor``/``add_offset`` attributes to read them back. An existing, compatible output
    of the same job is resumed (only missing blocks are computed); the output of a different
    DaCapo job is replaced when ``overwrite`` and refused otherwise; anything DaCapo did not
    write, the input itself or a path inside it is always refused (see
    ``dacapo.blockwise.ownership``). Returns the output's ``LocalArrayIdentifier``."""
    from dacapo.blockwise.predict_task import PredictTask
    from dacapo.blockwise.runner import run_tasks
    from dacapo.store.create_store import create_config_store, create_weights_store

    run_config = create_config_store().retrieve_run_config(run_name)
    if iteration is None:
        iteration = create_weights_store().latest_iteration(run_name)
        if iteration is None:
            raise FileNotFoundError(f"run {run_name!r} has no stored checkpoint to predict with")
    output = output_identifier(output_path, input_container, f"prediction_{run_name}_{iteration}")
    task = PredictTask.create(
        run_config, int(iteration), input_container, input_dataset, output,
        output_roi=parse_roi(output_roi), output_dtype=np.dtype(output_dtype),
        overwrite=overwrite, padding=padding, full_size=full_size,
    )
    summary = run_tasks([task], num_workers=num_workers, compute_context=compute_context,
                        progress=progress)
    logger.info(
        "predicted %s at iteration %d into %s/%s in %.1f s (%d blocks computed, %d done before)",
        run_name, iteration, output.container, output.dataset, summary.seconds,
        summary[task.task_id].completed, summary[task.task_id].skipped,
    )
    return output


from dacapo.utils.callable_module import make_callable  # noqa: E402

make_callable(__name__)  # ``dacapo.predict(...)`` calls predict(); ``import dacapo.predict`` is this module
