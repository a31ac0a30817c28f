"""Segment functions for ``segment_blockwise`` (``segment_function(input_array, block,
**parameters)`` → labels of ``block.read_roi``, spatial shape in voxels):

- ``connected_components``: threshold one channel, label connected components;
- ``watershed``: mutex watershed (``mwatershed``) of affinities;
- ``post_processor``: a task's post-processor with given parameters (what ``apply`` uses for
  instance segmentations).

Reads outside the input's ROI are zeros (predictions are decoded first, ``arrays.decode``).
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
from funlib.geometry import Roi

from dacapo.experiments.datasplits.datasets.arrays.array_utils import read_padded

from dacapo.experiments.tasks.post_processors.watershed_post_processor import agglom

from .arrays import array_attributes, decode


def read(input_array, roi: Roi) -> np.ndarray:
    """``roi`` of ``input_array`` (zeros outside it), decoded to float32 when stored as
    integers with ``scale_factor``/``add_offset``."""
    data = read_padded(input_array, roi, fill_value=0)
    attributes = array_attributes(input_array)
    if "scale_factor" in attributes:
        data = decode(data, attributes)
    return data


def _spatial(data: np.ndarray, dims: int, channel: Optional[int]) -> np.ndarray:
    if data.ndim == dims:
        return data
    if channel is None:
        if data.shape[0] != 1:
            raise ValueError(f"input has {data.shape[0]} channels: pass 'channel'")
        channel = 0
    return data[int(channel)]


def connected_components(input_array, block, threshold: float = 0.0,
                         channel: Optional[int] = None, connectivity: int = 1) -> np.ndarray:
    """Connected components of ``input > threshold`` (one channel), ``connectivity`` 1 = faces
    only ... ``dims`` = also corners."""
    from scipy import ndimage

    dims = block.read_roi.dims
    data = _spatial(read(input_array, block.read_roi), dims, channel)
    structure = ndimage.generate_binary_structure(dims, int(connectivity))
    labels, _ = ndimage.label(data > threshold, structure=structure)
    return labels.astype(np.uint64)


#: Short-range neighbourhood of 3D affinities.
DEFAULT_NEIGHBORHOOD = [[1, 0, 0], [0, 1, 0], [0, 0, 1]]


def watershed(input_array, block, neighborhood: Optional[Sequence[Sequence[int]]] = None,
              bias: float | Sequence[float] = 0.5, threshold: Optional[float] = None,
              strides: Optional[Sequence[Sequence[int]]] = None,
              randomized_strides: bool = False) -> np.ndarray:
    """Mutex watershed of affinities in [0, 1] (one channel per neighbourhood offset):
    ``mwatershed.agglom(affinities - bias, neighborhood)``; a ``bias`` per offset is allowed
    (long-range offsets usually get a higher one). Voxels whose mean short-range affinity is
    below ``threshold`` (if given) are background."""
    try:
        import mwatershed  # noqa: F401
    except ImportError:  # pragma: no cover - optional dependency
        raise ImportError("watershed needs mwatershed: pip install mwatershed") from None
    dims = block.read_roi.dims
    offsets = [list(map(int, o)) for o in (neighborhood or DEFAULT_NEIGHBORHOOD[:dims])]
    affinities = read(input_array, block.read_roi).astype(np.float64)
    if affinities.ndim != dims + 1 or affinities.shape[0] != len(offsets):
        raise ValueError(
            f"watershed: {len(offsets)} offsets need {len(offsets)} affinity channels, got shape "
            f"{affinities.shape}"
        )
    biases = np.broadcast_to(np.asarray(bias, dtype=np.float64), (len(offsets),))
    shifted = affinities - biases.reshape((-1,) + (1,) * dims)
    labels = agglom(shifted, offsets, strides=strides, randomized_strides=randomized_strides)
    if threshold is not None:
        short = [i for i, o in enumerate(offsets) if sum(abs(v) for v in o) == 1]
        if short:
            labels[affinities[short].mean(axis=0) < threshold] = 0
    return labels


def _prediction_in_block(input_array, block):
    """``(region of the block's read ROI inside the prediction (slices), decoded prediction
    there)``, or None where the block lies outside the prediction."""
    from .postprocess_task import read_prediction

    roi = block.read_roi.intersect(input_array.roi)
    if roi.empty:
        return None
    _, data = read_prediction(input_array, roi)
    voxel_size = input_array.voxel_size
    begin = (roi.offset - block.read_roi.offset) / voxel_size
    region = tuple(slice(int(b), int(b) + int(s)) for b, s in zip(begin, roi.shape / voxel_size))
    return region, data


def _block_shape(input_array, block) -> tuple[int, ...]:
    return tuple(int(s) for s in block.read_roi.shape / input_array.voxel_size)


def post_processor(input_array, block, task_config=None, parameters=None) -> np.ndarray:
    """``task_config``'s post-processor with ``parameters`` on the prediction inside the block's
    read ROI (no made-up data outside the prediction's ROI: the result there is 0)."""
    from .postprocess_task import post_processor_of

    result = np.zeros(_block_shape(input_array, block), dtype=np.uint64)
    found = _prediction_in_block(input_array, block)
    if found is None:
        return result
    region, data = found
    origin = [int(b.start) + int(o) for b, o in
              zip(region, block.read_roi.offset / input_array.voxel_size)]
    pp = post_processor_of(task_config)
    if hasattr(pp, "process_at"):
        labels = np.asarray(pp.process_at(parameters, data, origin))
    else:  # a post-processor that does not derive from PostProcessor
        labels = np.asarray(pp.process(parameters, data))
    if labels.ndim == block.read_roi.dims + 1 and labels.shape[0] == 1:
        labels = labels[0]
    result[region] = labels
    return result
