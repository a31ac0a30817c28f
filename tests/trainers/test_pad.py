"""The pipeline's Pad serves requests that lie partly or entirely outside the data."""

from __future__ import annotations

import gunpowder as gp
import numpy as np
import pytest
from funlib.persistence import Array

from dacapo.experiments.trainers.gp_nodes import ArraySource, Pad


@pytest.mark.parametrize(
    "offset, expected_sum",
    [((160, 0, 0), 0), ((-160, -160, -160), 0), ((40, 40, 40), 5 * 5 * 5), ((56, 0, 0), 3 * 5 * 5)],
)
def test_pad_fills_what_lies_outside_the_data(offset, expected_sum):
    key = gp.ArrayKey("PAD_TEST")
    data = Array(np.ones((1, 10, 10, 10), np.float32), offset=(0, 0, 0), voxel_size=(8, 8, 8),
                 axis_names=["c^", "z", "y", "x"])
    pipeline = ArraySource(key, data) + Pad(key, None)
    request = gp.BatchRequest()
    request[key] = gp.ArraySpec(roi=gp.Roi(offset, (40, 40, 40)))
    with gp.build(pipeline):
        batch = pipeline.request_batch(request)
    assert batch[key].data.shape == (1, 5, 5, 5)
    assert batch[key].spec.roi == gp.Roi(offset, (40, 40, 40))
    assert batch[key].data.sum() == expected_sum
