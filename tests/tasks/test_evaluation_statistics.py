"""Evaluation statistics that add up over blocks (``ContingencyTable``, ``BinaryCounts``):
summed over any tiling they give the whole volume's scores exactly, and the instance scores and
baselines are skimage's."""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from skimage.metrics import adapted_rand_error, variation_of_information

from dacapo.blockwise.validation import block_shape_within
from dacapo.experiments.tasks.evaluators.binary_segmentation_evaluator import (
    BinarySegmentationEvaluator,
)
from dacapo.experiments.tasks.evaluators.instance_evaluator import InstanceEvaluator
from dacapo.experiments.tasks.evaluators.statistics import COUNT_CRITERIA


@st.composite
def _labelled_volume(draw):
    shape = tuple(draw(st.lists(st.integers(1, 9), min_size=2, max_size=3)))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    gt = rng.integers(0, draw(st.integers(1, 5)), size=shape)
    segmentation = rng.integers(0, draw(st.integers(1, 5)), size=shape) * 1000
    valid = rng.random(shape) < draw(st.sampled_from([0.0, 0.5, 1.0]))
    budget = draw(st.integers(1, int(np.prod(shape))))
    return gt, segmentation, valid, budget


def _block_slices(shape, budget):
    import itertools

    block = block_shape_within(shape, budget)
    assert np.prod(block) <= budget or max(block) == 1
    for start in itertools.product(*[range(0, s, b) for s, b in zip(shape, block)]):
        yield tuple(slice(o, o + b) for o, b in zip(start, block))


@settings(max_examples=60, deadline=None)
@given(_labelled_volume())
def test_statistics_summed_over_blocks_equal_the_whole(volume):
    gt, segmentation, valid, budget = volume
    instance = InstanceEvaluator()
    binary = BinarySegmentationEvaluator(40, 8, ["c"])
    voxel_size = (1,) * gt.ndim
    parts = list(_block_slices(gt.shape, budget))
    for evaluator, output in ((instance, segmentation), (binary, segmentation != 0)):
        streamed = sum((evaluator.statistics(output[s], gt[s], voxel_size, valid[s])
                        for s in parts[1:]), evaluator.statistics(output[parts[0]],
                                                                  gt[parts[0]], voxel_size,
                                                                  valid[parts[0]]))
        whole = evaluator.evaluate(output, gt, voxel_size, mask=valid).to_dict()
        scores = streamed.scores().to_dict()
        for criterion, value in scores.items():
            name = criterion.split("__")[-1]
            if evaluator is instance or name in COUNT_CRITERIA or whole["c__dice"] == 1:
                assert value == whole[criterion] or (math.isnan(value)
                                                     and math.isnan(whole[criterion]))
            else:
                assert math.isnan(value)
    # the instance scores are skimage's, and so are the baselines
    if valid.any():
        split, merge = variation_of_information(gt[valid], segmentation[valid])
        scores = instance.evaluate(segmentation, gt, voxel_size, mask=valid)
        assert (scores.voi_split, scores.voi_merge) == pytest.approx((split, merge), abs=1e-9)
        if (gt[valid] != 0).any():
            with np.errstate(all="ignore"):
                expected = adapted_rand_error(gt[valid], segmentation[valid])
            assert (scores.adapted_rand_error, scores.adapted_rand_precision,
                    scores.adapted_rand_recall) == pytest.approx(expected, nan_ok=True)
        every_voxel = np.arange(1, gt.size + 1).reshape(gt.shape)
        baselines = instance.baselines(gt, voxel_size, valid)
        split, merge = variation_of_information(gt[valid], every_voxel[valid])
        assert (baselines["every_voxel"].voi_split, baselines["every_voxel"].voi_merge) == \
            pytest.approx((split, merge), abs=1e-9)
        if (gt[valid] != 0).any():
            with np.errstate(all="ignore"):
                expected = adapted_rand_error(gt[valid], every_voxel[valid])
            got = baselines["every_voxel"]
            assert (got.adapted_rand_error, got.adapted_rand_precision,
                    got.adapted_rand_recall) == pytest.approx(expected, nan_ok=True)

