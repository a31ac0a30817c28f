"""Blockwise prediction with a trained run: ``PredictTask``.

Block geometry is ``BlockPredictor``'s (the model's eval input/output shapes): write blocks of the
eval output size on a grid anchored at the output ROI's offset, each read from the eval input
around it. Each worker builds the model once, loads the requested checkpoint once and keeps both
resident while it takes blocks; per block it runs ``BlockPredictor.predict_iter`` and writes the
result (cropped to the output ROI, stored as ``output_dtype`` with ``arrays.encode``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Optional

import numpy as np
from funlib.geometry import Coordinate, Roi

from .arrays import encode, encoding, open_output, prepare_output, value_range, write_cropped
from .bookkeeping import Bookkeeping
from .task import BlockwiseTask, WorkerContext

logger = logging.getLogger(__name__)


def find_intensities(config) -> Optional[tuple[float, float]]:
    """``(min, max)`` of the first ``IntensitiesArrayConfig`` inside an array config tree."""
    from dacapo.config import nested_configs
    from dacapo.experiments.datasplits.datasets.arrays import IntensitiesArrayConfig

    for node in nested_configs(config):
        if isinstance(node, IntensitiesArrayConfig):
            return float(node.min), float(node.max)
    return None


def training_intensities(run_config) -> Optional[tuple[float, float]]:
    """The raw normalisation the run was trained with (``IntensitiesArrayConfig`` min/max of
    its first training dataset), or None."""
    datasplit = run_config.datasplit_config
    try:
        train = list(getattr(datasplit, "train_configs", None) or [])
    except Exception:  # a convention-based datasplit whose directories are not here
        train = []
    for dataset in train:
        raw = getattr(dataset, "raw_config", None)
        if raw is not None:
            return find_intensities(raw)
    return None


def input_array_config(run_config, input_container, input_dataset: str):
    """The input as the model saw raw in training: the zarr/N5 dataset, normalised like the
    training raw (``IntensitiesArrayConfig`` with the training min/max) when the run's raw was
    normalised so; otherwise as it is."""
    from dacapo.experiments.datasplits.datasets.arrays import (
        IntensitiesArrayConfig,
        ZarrArrayConfig,
    )

    source = ZarrArrayConfig(
        name="predict_input", file_name=Path(input_container), dataset=input_dataset, mode="r"
    )
    intensities = training_intensities(run_config)
    if intensities is None:
        return source
    return IntensitiesArrayConfig(
        name="predict_input_normalised", source_array_config=source,
        min=intensities[0], max=intensities[1],
    )


def weights_identity(run_name: str, iteration: int) -> Optional[list]:
    """Size and modification time of the checkpoint file (so that retrained weights of the same
    iteration do not count as the same job)."""
    from dacapo.store.create_store import create_weights_store

    store = create_weights_store()
    path = getattr(store, "_file", None)
    try:
        stat = Path(path(run_name, iteration)).stat()
    except (TypeError, OSError, ValueError):
        return None
    return [stat.st_size, stat.st_mtime_ns]


class ModelBundle:
    """What prediction needs of a run: its ``task``, ``model`` and the raw
    ``inference_transform`` (the trainer's deterministic augments), built from the run config
    without the optimizer (whose construction imports torch's compiler: seconds per worker)."""

    def __init__(self, run_config):
        self.config = run_config
        self.name = run_config.name
        self.task = run_config.task_config.task_type(run_config.task_config)
        architecture = run_config.architecture_config.architecture_type(
            run_config.architecture_config
        )
        self.model = self.task.create_model(architecture)
        trainer = run_config.trainer_config.trainer_type(run_config.trainer_config)
        self.inference_transform = trainer.inference_transform
        self.loaded_iteration: Optional[int] = None

    def load_weights(self, iteration: int) -> None:
        from dacapo.store.create_store import create_weights_store

        state = create_weights_store().retrieve_weights(self.name, iteration)
        try:
            self.model.load_state_dict(state.get("model", state))
        except RuntimeError as error:  # (torch's message lists every key: keep its first line)
            first = (str(error).strip().splitlines() or [""])[0]
            raise ValueError(f"checkpoint {iteration} of run {self.name!r} does not fit its "
                             f"model: {first}") from None
        self.model.eval()
        self.loaded_iteration = int(iteration)


def load_run(run_config, iteration: int) -> ModelBundle:
    """The run's model with the weights of ``iteration``, in eval mode."""
    bundle = ModelBundle(run_config)
    bundle.load_weights(iteration)
    return bundle


def resolve_padding(padding: Optional[str], full_size: bool) -> str:
    """The padding of a prediction: as given, else reflect for a full-size output (its border
    context comes from the padding) and zero otherwise."""
    from dacapo.experiments.datasplits.datasets.arrays.array_utils import check_padding

    return check_padding(padding if padding is not None else ("reflect" if full_size else "zero"))


def snap_roi(roi: Roi, grid: Coordinate, mode: str) -> Roi:
    return roi.snap_to_grid(grid, mode=mode)


def lcm_grid(*voxel_sizes) -> Coordinate:
    import math

    return Coordinate(
        math.lcm(*(int(v[d]) for v in voxel_sizes)) for d in range(len(voxel_sizes[0]))
    )


class PredictTask(BlockwiseTask):
    """Predict ``output_roi`` of ``input_config`` with run ``run_config`` at ``iteration`` into
    ``output`` (a ``LocalArrayIdentifier``). Use ``PredictTask.create``."""

    uses_torch = True

    @classmethod
    def create(
        cls,
        run_config,
        iteration: int,
        input_container,
        input_dataset: str,
        output,
        output_roi: Optional[Roi] = None,
        output_dtype=np.float32,
        overwrite: bool = False,
        task_id: Optional[str] = None,
        max_retries: int = 2,
        timeout: Optional[float] = None,
        run=None,
        padding: Optional[str] = None,
        full_size: bool = False,
    ) -> "PredictTask":
        """``padding`` fills raw outside its ROI (``"zero"`` or ``"reflect"``; default:
        reflect for ``full_size``, else zero). ``full_size``: the output ROI is the whole input
        ROI (its context read from the padding) instead of the input less the context."""
        from dacapo.predict_local import BlockPredictor

        padding = resolve_padding(padding, full_size)
        if full_size and output_roi is not None:
            raise ValueError(
                f"output_roi={output_roi} and full_size=True: pass one (full_size predicts the "
                "whole input ROI)"
            )
        input_config = input_array_config(run_config, input_container, input_dataset)
        raw = input_config.array("r")
        if run is None:
            run = ModelBundle(run_config)
        if run.loaded_iteration != int(iteration):
            run.load_weights(iteration)  # the checkpoint exists and fits: before any output
        predictor = BlockPredictor(run.model, raw, device="cpu", padding=padding)
        in_vs, out_vs = predictor.input_voxel_size, predictor.output_voxel_size
        grid = lcm_grid(in_vs, out_vs)
        if full_size:
            output_roi = snap_roi(raw.roi, grid, "shrink")
        elif output_roi is None:
            output_roi = raw.roi.grow(-predictor.context, -predictor.context)
            output_roi = snap_roi(output_roi, grid, "shrink")
        else:
            output_roi = snap_roi(output_roi, grid, "grow")
        if output_roi.empty:
            raise ValueError(
                f"nothing to predict: the input ROI {raw.roi} is smaller than the model's context "
                f"({predictor.context} on each side); pass an output ROI"
            )
        channels = list(getattr(run.task.predictor, "channels", []) or [])
        task = cls(
            task_id or "predict",
            total_roi=output_roi.grow(predictor.context, predictor.context),
            read_roi=Roi(-predictor.context, predictor.input_size),
            write_roi=Roi((0,) * output_roi.dims, predictor.output_size),
            max_retries=max_retries,
            timeout=timeout,
            bookkeeping=Bookkeeping.for_array(output.container, output.dataset),
        )
        task.run_config = run_config
        task.iteration = int(iteration)
        task.input_config = input_config
        task.input_container = str(Path(input_container).resolve())
        task.input_dataset = input_dataset
        task.output = output
        task.output_roi = output_roi
        task.padding = padding
        task.output_voxel_size = out_vs
        task.num_channels = int(predictor.out_channels)
        task.channel_names = channels if len(channels) == predictor.out_channels else None
        task.output_dtype = np.dtype(output_dtype)
        task.encoding = encoding(task.output_dtype, value_range(run.task))
        task.overwrite = overwrite
        task.weights = weights_identity(run_config.name, iteration)
        task._resident_run = run  # reused by an in-process worker (weights loaded in setup)
        return task

    def fingerprint(self) -> dict:
        fingerprint = super().fingerprint()
        fingerprint.update(
            run=self.run_config.name,
            iteration=self.iteration,
            weights=self.weights,
            input=[self.input_container, self.input_dataset, repr(self.input_config)],
            output=[str(Path(self.output.container).resolve()), self.output.dataset],
            output_roi=[list(self.output_roi.offset), list(self.output_roi.shape)],
            padding=self.padding,
            dtype=str(self.output_dtype),
            encoding=self.encoding,
        )
        return fingerprint

    def outputs(self) -> list:
        return [self.output]

    def inputs(self) -> list:
        from .ownership import array_inputs

        return [Path(self.input_container) / self.input_dataset] + array_inputs(self.input_config)

    def prepare(self, resume: bool) -> bool:
        attributes = dict(self.encoding or {})
        attributes["dacapo"] = {
            "run": self.run_config.name, "iteration": self.iteration,
            "input": [self.input_container, self.input_dataset],
        }
        return prepare_output(
            self.output, self.output_roi, self.output_voxel_size, self.num_channels,
            self.output_dtype, self.block_shape, resume=resume, overwrite=self.overwrite,
            channel_names=self.channel_names, attributes=attributes, job=self.fingerprint(),
        )

    def setup(self, worker: WorkerContext) -> None:
        from dacapo.predict_local import BlockPredictor

        run = getattr(self, "_resident_run", None)
        if run is None:
            run = ModelBundle(self.run_config)
        if run.loaded_iteration != self.iteration:
            run.load_weights(self.iteration)
        device = worker.device if worker.device is not None else None
        self._resident_predictor = BlockPredictor(
            run.model,
            self.input_config.array("r"),
            device=str(device) if device is not None else None,
            batch_size=1,
            raw_transform=run.inference_transform,
            padding=self.padding,
        )
        self._resident_output = open_output(self.output, "r+")

    def process_block(self, block) -> None:
        predictor = self._resident_predictor
        for roi, prediction in predictor.predict_iter([block.write_roi]):
            target = roi.intersect(self.output_roi)
            if target.empty:
                continue
            data = encode(prediction, self.output_dtype, self.encoding)
            write_cropped(self._resident_output, roi, data, self.output_roi)

    def teardown(self) -> None:
        for name in ("_resident_predictor", "_resident_output"):
            self.__dict__.pop(name, None)
