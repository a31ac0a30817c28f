"""Validation of datasets over the voxel budget: each sweep setting is post-processed blockwise
into the array store and scored from per-block sufficient statistics, with the scores of the
in-memory path (exact for VOI, adapted Rand and the overlap criteria)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from skimage.metrics import adapted_rand_error, variation_of_information

from dacapo.blockwise.validation import block_shape_within
from dacapo.experiments import run_state
from dacapo.experiments.run import Run
from dacapo.experiments.tasks import AffinitiesTaskConfig, DistanceTaskConfig
from dacapo.experiments.tasks.evaluators.binary_segmentation_evaluation_scores import (
    BinarySegmentationEvaluationScores,
)
from dacapo.experiments.tasks.evaluators.binary_segmentation_evaluator import (
    BinarySegmentationEvaluator,
)
from dacapo.experiments.tasks.evaluators.instance_evaluator import InstanceEvaluator
from dacapo.store.create_store import create_array_store, create_config_store, create_weights_store
from dacapo.validate import validate_run

from . import test_tasks_learn as learn

SMALL_BUDGET = 40 * 40  # the 96² validation image → blocks of 48²: 4 blocks


def _validate_both_ways(tmp_path, name, task, instances):
    """The scores of iteration 0 (an untrained model) in memory and forced blockwise."""
    config = learn.cells_2d_run_config(tmp_path, name, task, instances=instances, iterations=1,
                                       validation_interval=1)
    create_config_store().store_run_config(config)
    run = Run(config)
    create_weights_store().store_weights(config.name, 0, run_state.capture(run, 0))
    whole = validate_run(run, 0, progress=False)
    blockwise = validate_run(run, 0, progress=False, max_voxels=SMALL_BUDGET)
    return run, whole, blockwise


def test_instance_validation_blockwise_equals_in_memory(options, tmp_path):
    # a context covering the image: every block segments as the whole image does, so the
    # stitched segmentation and its scores must be the in-memory ones, exactly
    task = AffinitiesTaskConfig(name="affs", neighborhood=[(1, 0), (0, 1), (3, 0), (0, 3)],
                                biases=[0.3, 0.5, 0.7], blockwise_context=96)
    run, whole, blockwise = _validate_both_ways(tmp_path, "affs_blockwise", task, True)
    assert np.isfinite(np.asarray(whole.scores)[..., :3]).all()
    assert len({tuple(p[:3]) for p in whole.scores[0]}) > 1  # the sweep gives different results
    # (the same segments under other ids: sums in another order, equal to rounding)
    assert np.asarray(blockwise.scores) == pytest.approx(np.asarray(whole.scores), rel=1e-12)
    assert repr(blockwise.baselines) == repr(whole.baselines)  # (NaN recall of every_voxel)
    # nothing of the sweep's outputs is left in the store
    container = create_array_store().validation_container(run.name).container
    assert not list(container.glob("**/output/*/.zarray"))
    assert not [p for p in container.glob(".blockwise/**/*") if p.is_file()]


def test_binary_validation_blockwise_equals_in_memory(options, tmp_path):
    task = DistanceTaskConfig(name="dist", channels=["cell"], clip_distance=40,
                              tol_distance=8, scale_factor=16, thresholds=[-0.1, 0.0, 0.1])
    run, whole, blockwise = _validate_both_ways(tmp_path, "dist_blockwise", task, False)
    criteria = run.task.evaluator.criteria
    streamed = [i for i, c in enumerate(criteria) if c.split("__")[1] in COUNT_CRITERIA]
    whole_scores, blockwise_scores = np.asarray(whole.scores), np.asarray(blockwise.scores)
    assert np.array_equal(whole_scores[..., streamed], blockwise_scores[..., streamed],
                          equal_nan=True)
    assert np.isfinite(whole_scores[..., criteria.index("cell__dice")]).all()
    others = [i for i in range(len(criteria)) if i not in streamed]
    perfect = whole_scores[..., criteria.index("cell__dice")] == 1
    assert np.isnan(blockwise_scores[..., others][~perfect]).all()


COUNT_CRITERIA = {"dice", "jaccard", "false_negative_rate", "false_positive_rate",
                  "false_discovery_rate", "precision", "recall", "f1_score"}


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

