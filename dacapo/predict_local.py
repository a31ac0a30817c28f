"""In-process blockwise prediction with a resident model: the engine behind validation and the
daisy workers of ``predict``/``apply``.

Blocks are the model's eval output shape, laid on a grid anchored at the output ROI's offset, so
that (for a valid-padded network whose output size is a multiple of its total downsampling) the
result equals one forward pass over the whole region. Raw outside its ROI reads as zeros, or
mirrored with ``padding="reflect"`` (then the result equals one forward pass over the raw padded
with ``numpy.pad(mode="reflect")``). Reads run
ahead in a thread and writes run behind in another, overlapping I/O with compute; memory stays
bounded by ``batch_size`` and the prefetch depth.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, Iterator, Optional

import numpy as np
from funlib.geometry import Coordinate, Roi

from dacapo.experiments.datasplits.datasets.arrays.array_utils import check_padding, read_padded

logger = logging.getLogger(__name__)


class BlockPredictor:
    def __init__(
        self,
        model,
        raw_array,
        device=None,
        batch_size: int = 1,
        raw_transform: Optional[Callable[[np.ndarray], np.ndarray]] = None,
        input_shape: Optional[Coordinate] = None,
        padding: str = "zero",
    ):
        from dacapo.utils.torch_utils import default_device

        self.model = model
        self.raw = raw_array
        self.device = default_device(device)
        self.batch_size = batch_size
        self.raw_transform = raw_transform
        self.padding = check_padding(padding)
        self.input_voxel_size = Coordinate(raw_array.voxel_size)
        self.output_voxel_size = Coordinate(model.scale(self.input_voxel_size))
        self.input_shape = Coordinate(input_shape or model.eval_input_shape)
        self.out_channels, self.output_shape = model.compute_output_shape(self.input_shape)
        self.input_size = self.input_shape * self.input_voxel_size
        self.output_size = self.output_shape * self.output_voxel_size
        self.context = (self.input_size - self.output_size) / 2

    def read_roi(self, write_roi: Roi) -> Roi:
        return Roi(write_roi.offset - self.context, self.input_size)

    def write_rois(self, output_roi: Roi) -> list[Roi]:
        """Blocks of the eval output size covering ``output_roi`` (the last ones may stick out;
        writes are cropped to ``output_roi``)."""
        output_roi = output_roi.snap_to_grid(self.output_voxel_size, mode="grow")
        counts = [
            -(-int(s) // int(b)) for s, b in zip(output_roi.shape, self.output_size)
        ]
        rois = []
        for index in np.ndindex(*counts):
            offset = output_roi.offset + Coordinate(index) * self.output_size
            rois.append(Roi(offset, self.output_size))
        return rois

    def _read(self, write_roi: Roi) -> np.ndarray:
        data = read_padded(self.raw, self.read_roi(write_roi), fill_value=0, padding=self.padding)
        if len(data.shape) == self.input_shape.dims:
            data = data[np.newaxis]
        data = data.astype(np.float32, copy=False)
        if self.raw_transform is not None:
            data = self.raw_transform(data)
        return data

    def predict(
        self, write_rois: Iterable[Roi], output_array, clip_roi: Optional[Roi] = None,
        progress: bool = False,
    ) -> None:
        """Predict ``write_rois`` and write them (cropped to ``clip_roi`` or the output array's
        ROI) into ``output_array`` (a writable funlib Array)."""
        for write_roi, prediction in self.predict_iter(write_rois, progress=progress):
            self._write(output_array, write_roi, prediction, clip_roi or output_array.roi)

    def predict_iter(
        self, write_rois: Iterable[Roi], progress: bool = False
    ) -> Iterator[tuple[Roi, np.ndarray]]:
        import torch

        from dacapo.utils.torch_utils import (
            autocast,
            configure_device,
            memory_format,
            place_model,
            to_tensor,
        )

        write_rois = list(write_rois)
        configure_device(self.device)
        place_model(self.model, self.device)
        fmt = memory_format(self.model)
        self.model.eval()
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(write_rois), desc="predict", unit="block", dynamic_ncols=True)
        with ThreadPoolExecutor(max_workers=2) as reader:
            pending = [reader.submit(self._read, roi) for roi in write_rois[: 2 * self.batch_size]]
            next_index = len(pending)
            for start in range(0, len(write_rois), self.batch_size):
                batch_rois = write_rois[start : start + self.batch_size]
                inputs = [pending.pop(0).result() for _ in batch_rois]
                while next_index < len(write_rois) and len(pending) < 2 * self.batch_size:
                    pending.append(reader.submit(self._read, write_rois[next_index]))
                    next_index += 1
                with torch.inference_mode(), autocast(self.device):
                    x = to_tensor(np.stack(inputs), self.device, fmt)
                    y = self.model(x).float().cpu().numpy()
                for roi, prediction in zip(batch_rois, y):
                    yield roi, prediction
                if bar is not None:
                    bar.update(len(batch_rois))
        if bar is not None:
            bar.close()

    @staticmethod
    def _write(output_array, write_roi: Roi, prediction: np.ndarray, clip_roi: Roi) -> None:
        target = write_roi.intersect(clip_roi)
        if target.empty:
            return
        voxel_size = Coordinate(output_array.voxel_size)
        begin = (target.offset - write_roi.offset) / voxel_size
        end = begin + target.shape / voxel_size
        crop = prediction[(slice(None),) + tuple(slice(b, e) for b, e in zip(begin, end))]
        output_array[target] = convert_dtype(crop, output_array.dtype)


def convert_dtype(data: np.ndarray, dtype) -> np.ndarray:
    """Float predictions → the output dtype. Integer outputs store [-1, 1] or [0, 1] values
    scaled to the dtype's range (uint8: [0, 1] → [0, 255]; int8: [-1, 1] → [-127, 127])."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return data.astype(dtype, copy=False)
    if dtype.kind in "ui" and data.dtype.kind == "f":
        info = np.iinfo(dtype)
        scaled = data * info.max
        return np.clip(np.round(scaled), info.min, info.max).astype(dtype)
    return data.astype(dtype)


def predict(model, raw_array_identifier, prediction_array_identifier, output_roi: Optional[Roi] = None):
    """dacapo-ml 0.3.5's in-process prediction: ``model`` over the raw array (a
    ``LocalArrayIdentifier`` or a funlib ``Array``) into a float32 array written at
    ``prediction_array_identifier``, covering ``output_roi`` (default: the raw ROI less the
    network's context). Returns the prediction array."""
    from dacapo.utils.arrays import create_array, open_array

    raw = raw_array_identifier
    if hasattr(raw_array_identifier, "container"):
        raw = open_array(raw_array_identifier)
    predictor = BlockPredictor(model, raw)
    if output_roi is None:
        output_roi = raw.roi.grow(-predictor.context, -predictor.context)
    output_roi = output_roi.snap_to_grid(predictor.output_voxel_size, mode="shrink")
    output = create_array(
        prediction_array_identifier,
        roi=output_roi,
        voxel_size=predictor.output_voxel_size,
        num_channels=predictor.out_channels,
        dtype=np.float32,
    )
    predictor.predict(predictor.write_rois(output_roi), output, clip_roi=output_roi)
    return output
