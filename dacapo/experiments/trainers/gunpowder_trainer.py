"""The gunpowder trainer: a data pipeline built once, fed by persistent worker processes.

Per dataset::

    (raw [cropped to gt + context if clip_raw], gt, mask or constant ones)
        + MergeProvider + Pad(raw/gt/mask, unbounded, zeros)
        + SampleLocation(output centre inside gt or on a sample point, min_masked)
    RandomProvider(datasets, weights) + augments + TargetAndWeight(task.predictor)
        + DataFetchers(num_data_fetchers worker processes, skipped for 0) + Stack(batch_size)

Sizes are in world units: input = model.input_shape × raw voxel size, output =
model.output_shape × model.scale(raw voxel size); gt and mask must have the output voxel size.
"""

from __future__ import annotations

import atexit
import logging
import math
import os
import random
import weakref
from pathlib import Path
from typing import Any, Optional

import numpy as np

from .trainer import Trainer

logger = logging.getLogger(__name__)


def usable_cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class GunpowderTrainer(Trainer):
    """Runtime counterpart of ``GunpowderTrainerConfig``. See the module docstring."""

    def __init__(self, config):
        super().__init__(config)
        self.num_data_fetchers = config.num_data_fetchers
        self.augments = list(config.augments)
        self.snapshot_interval = config.snapshot_interval
        self.min_masked = config.min_masked or 0.0
        self.clip_raw = config.clip_raw
        self.seed = 0
        self.snapshot_container = None
        self.raw_voxel_size = None
        self.output_voxel_size = None
        self.input_roi = None
        self.output_roi = None
        self.raw_channels = 0
        self._pipeline = None
        self._request = None
        self._keys = None
        self._build = None
        self._atexit = None

    # --- building ----------------------------------------------------------------------------
    def build_batch_provider(self, datasets, model, task, seed: int = 0, snapshot_container=None):
        """Build the pipeline (once) for ``datasets``; start it with ``with trainer:``."""
        import gunpowder as gp
        from funlib.geometry import Coordinate

        from .gp_nodes import ArraySource, ConstantSource, DataFetchers, Pad, SampleLocation
        from .gp_nodes import TargetAndWeight

        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise TypeError(
                f"build_batch_provider(datasets, model, task, seed): seed must be an int, got "
                f"{seed!r} (pass snapshot_container=... by keyword)"
            )
        was_running = self._build is not None
        if was_running:
            self._teardown()

        datasets = [d for d in datasets if d.weight > 0]
        if not datasets:
            raise ValueError("no training dataset with weight > 0")
        self.seed = int(seed)
        if snapshot_container is not None:
            self.snapshot_container = Path(snapshot_container)

        raw_vs = Coordinate(datasets[0].raw.voxel_size)
        for dataset in datasets:
            if Coordinate(dataset.raw.voxel_size) != raw_vs:
                raise ValueError(
                    f"dataset {dataset.name}: raw voxel size {dataset.raw.voxel_size} differs "
                    f"from {datasets[0].name}'s {raw_vs}; all training raw must share one"
                )
        out_vs = Coordinate(model.scale(raw_vs))
        input_shape = Coordinate(model.input_shape)
        output_shape = Coordinate(model.output_shape)
        if len(input_shape) != len(raw_vs):
            raise ValueError(
                f"model input shape {input_shape} and raw voxel size {raw_vs} differ in "
                "dimensions"
            )
        input_size = input_shape * raw_vs
        output_size = output_shape * out_vs
        in_roi, out_roi = _reference_rois(input_size, output_size, raw_vs, out_vs)
        grid = Coordinate(math.lcm(a, b) for a, b in zip(raw_vs, out_vs))
        context_lo = Coordinate(max(0, c) for c in (out_roi.begin - in_roi.begin))
        context_hi = Coordinate(max(0, c) for c in (in_roi.end - out_roi.end))

        raw_key = gp.ArrayKey("RAW")
        gt_key = gp.ArrayKey("GT")
        mask_key = gp.ArrayKey("MASK")
        target_key = gp.ArrayKey("TARGET")
        weight_key = gp.ArrayKey("WEIGHT")

        raw_channels = {_channel_dims(d.raw) for d in datasets}
        if len(raw_channels) != 1:
            raise ValueError("training raw arrays differ in their channel axes")
        self.raw_channels = raw_channels.pop()
        num_in = getattr(model, "num_in_channels", None)
        have = int(np.prod(datasets[0].raw.shape[: self.raw_channels])) if self.raw_channels else 1
        if num_in is not None and int(num_in) != have:
            raise ValueError(f"model expects {num_in} input channel(s), raw has {have}")

        # datasets without a mask get constant ones shaped like the others' (per-class) masks,
        # so that samples of all datasets stack into one batch
        mask_channels = {
            tuple(d.mask.shape[: _channel_dims(d.mask)]) for d in datasets if d.mask is not None
        }
        if len(mask_channels) > 1:
            raise ValueError(f"training masks differ in their channel axes: {sorted(mask_channels)}")
        ones_channels = mask_channels.pop() if mask_channels else ()

        sources = []
        for dataset in datasets:
            raw, gt, mask = dataset.raw, dataset.gt, dataset.mask
            name = dataset.name
            if Coordinate(gt.voxel_size) != out_vs:
                raise ValueError(
                    f"dataset {name}: gt voxel size {tuple(gt.voxel_size)} != model output voxel "
                    f"size {tuple(out_vs)} (model.scale{tuple(raw_vs)}); resample the gt"
                )
            if mask is not None and Coordinate(mask.voxel_size) != out_vs:
                raise ValueError(
                    f"dataset {name}: mask voxel size {tuple(mask.voxel_size)} != output voxel "
                    f"size {tuple(out_vs)}"
                )
            for what, array in (("raw", raw), ("gt", gt), ("mask", mask)):
                if array is not None and (array.roi.offset % Coordinate(array.voxel_size)) != (
                    Coordinate(array.voxel_size) * 0
                ):
                    raise ValueError(
                        f"dataset {name}: {what} offset {tuple(array.roi.offset)} is not a "
                        f"multiple of its voxel size {tuple(array.voxel_size)}"
                    )
            if not raw.roi.intersects(gt.roi):
                raise ValueError(f"dataset {name}: raw {raw.roi} and gt {gt.roi} do not overlap")
            raw_roi = raw.roi
            if self.clip_raw:
                raw_roi = (
                    gt.roi.grow(context_lo, context_hi)
                    .snap_to_grid(raw_vs, mode="grow")
                    .intersect(raw.roi)
                )
            points = None
            if dataset.sample_points is not None:
                points = [
                    np.asarray(p, dtype=np.float64)
                    for p in dataset.sample_points
                    if gt.roi.contains(Coordinate(int(math.floor(v)) for v in p))
                ]
                if not points:
                    raise ValueError(f"dataset {name}: no sample point lies inside gt {gt.roi}")

            raw_source = ArraySource(raw_key, raw, interpolatable=True, roi=raw_roi, dtype=np.float32,
                                     finite_name=f"dataset {name}: raw{_config_name(dataset, 'raw_config')}")
            gt_source = ArraySource(gt_key, gt)
            if mask is None:
                mask_source = ConstantSource(
                    mask_key, gt.roi, out_vs, value=1, dtype=np.uint8, channel_shape=ones_channels
                )
                location = SampleLocation(
                    out_roi, gt.roi, grid, mask_roi=gt.roi, min_masked=self.min_masked,
                    sample_points=points, name=name,
                )
            else:
                mask_source = ArraySource(mask_key, mask, interpolatable=False, dtype=np.uint8)
                location = SampleLocation(
                    out_roi, gt.roi, grid, mask_key=mask_key, min_masked=self.min_masked,
                    sample_points=points, name=name,
                )
            source = (
                (raw_source, gt_source, mask_source)
                + gp.MergeProvider()
                + Pad(raw_key, None)
                + Pad(gt_key, None)
                + Pad(mask_key, None)
                + location
            )
            sources.append(source)

        weights = np.array([float(d.weight) for d in datasets])
        pipeline = tuple(sources) + gp.RandomProvider(probabilities=list(weights / weights.sum()))
        for augment in self.augments:
            pipeline += augment.node(raw_key, gt_key, mask_key)
        pipeline += TargetAndWeight(task.predictor, gt_key, target_key, weight_key, mask_key)

        workers = int(self.num_data_fetchers)
        if workers > usable_cpus():
            logger.info(
                "num_data_fetchers=%d capped at %d (usable CPU cores)", workers, usable_cpus()
            )
            workers = usable_cpus()
        self.num_workers = workers
        if workers > 0:
            pipeline += DataFetchers(
                workers, cache_size=max(2 * self.batch_size, workers), seed=self.seed
            )
        pipeline += gp.Stack(self.batch_size)

        request = gp.BatchRequest()
        request[raw_key] = gp.ArraySpec(roi=in_roi)
        for key in (gt_key, mask_key, target_key, weight_key):
            request[key] = gp.ArraySpec(roi=out_roi)

        self.raw_voxel_size = raw_vs
        self.output_voxel_size = out_vs
        self.input_roi = in_roi
        self.output_roi = out_roi
        self._keys = {
            "raw": raw_key,
            "gt": gt_key,
            "target": target_key,
            "weight": weight_key,
            "mask": mask_key,
        }
        self._pipeline = pipeline
        self._request = request
        if was_running:
            self.__enter__()
        return pipeline

    # --- life cycle --------------------------------------------------------------------------
    def __enter__(self):
        import gunpowder as gp

        if self._pipeline is None:
            raise RuntimeError("call build_batch_provider(datasets, model, task) before `with`")
        if self._build is None:
            build = gp.build(self._pipeline)
            build.__enter__()
            self._build = build
            ref = weakref.ref(self)

            def _cleanup():
                trainer = ref()
                if trainer is not None:
                    trainer._teardown()

            self._atexit = _cleanup
            atexit.register(_cleanup)
        return self

    def __exit__(self, exc_type, exc, tb):
        self._teardown()
        return False

    def _teardown(self):
        build, self._build = self._build, None
        if self._atexit is not None:
            atexit.unregister(self._atexit)
            self._atexit = None
        if build is not None:
            build.__exit__(None, None, None)

    def __del__(self):
        try:
            self._teardown()
        except Exception:  # pragma: no cover
            pass

    # --- batches -----------------------------------------------------------------------------
    def next_batch(self, iteration: int) -> dict[str, np.ndarray]:
        """The batch for ``iteration``: ``raw`` (b, c, *input) float32, ``gt`` (b, [c,] *output),
        ``target`` and ``weight`` (b, C, *output) float32, ``mask`` (b, [c,] *output) uint8
        (1 = annotated; 0 also where the sample extends beyond the gt). Without data workers the
        same seed and iteration give the same batch."""
        from .gp_nodes import DataError, data_error, mix_seed

        if self._build is None:
            raise RuntimeError("next_batch needs a running pipeline: use `with trainer:`")
        request = self._request.copy()
        request._random_seed = mix_seed(self.seed, int(iteration))
        # gunpowder reseeds the global RNGs on every request: keep the caller's streams intact
        py_state, np_state = random.getstate(), np.random.get_state()
        try:
            batch = self._pipeline.request_batch(request)
        except Exception as exc:
            found = data_error(exc)
            if found is None:
                raise
            raise DataError(str(found)) from None
        finally:
            random.setstate(py_state)
            np.random.set_state(np_state)

        out = {name: batch[key].data for name, key in self._keys.items()}
        raw = out["raw"]
        if self.raw_channels == 0:
            raw = raw[:, np.newaxis]
        out["raw"] = np.ascontiguousarray(raw, dtype=np.float32)
        out["target"] = np.ascontiguousarray(out["target"], dtype=np.float32)
        out["weight"] = np.ascontiguousarray(out["weight"], dtype=np.float32)
        return out

    # --- snapshots ---------------------------------------------------------------------------
    def write_snapshot(
        self,
        container,
        iteration: int,
        batch: dict[str, Any],
        prediction: Optional[Any] = None,
        raw_voxel_size=None,
        raw_offset=None,
        output_voxel_size=None,
        output_offset=None,
    ) -> Path:
        """Write the batch and prediction under ``<container>/<iteration>/<key>``; voxel sizes
        and offsets default to the pipeline's (input and output ROIs of the request)."""
        if container is None:
            container = self.snapshot_container
        if container is None:
            raise ValueError("write_snapshot: no container given")
        return super().write_snapshot(
            container,
            iteration,
            batch,
            prediction,
            raw_voxel_size=_default(raw_voxel_size, self.raw_voxel_size),
            raw_offset=_default(raw_offset, self.input_roi and self.input_roi.offset),
            output_voxel_size=_default(output_voxel_size, self.output_voxel_size),
            output_offset=_default(output_offset, self.output_roi and self.output_roi.offset),
        )


def _config_name(dataset, field: str) -> str:
    config = getattr(getattr(dataset, "config", None), field, None)
    return f" array {config.name!r}" if getattr(config, "name", None) else ""


def _default(value, fallback):
    return fallback if value is None else value


def _channel_dims(array) -> int:
    try:
        return int(array.channel_dims)
    except AttributeError:  # pragma: no cover
        return len(array.shape) - len(array.voxel_size)


def _reference_rois(input_size, output_size, raw_vs, out_vs):
    """Input and output ROIs (world units) centred on the same point and aligned with their
    voxel grids (offsets are multiples of the voxel sizes)."""
    from funlib.geometry import Coordinate, Roi

    out_offset = Coordinate(-((o // 2) // v) * v for o, v in zip(output_size, out_vs))
    twice_center = out_offset * 2 + output_size
    in_offset = Coordinate(
        int(round((c - i) / (2 * v))) * v for c, i, v in zip(twice_center, input_size, raw_vs)
    )
    return Roi(in_offset, input_size), Roi(out_offset, output_size)
