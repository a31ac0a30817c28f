"""Validation of datasets over the voxel budget: each sweep setting is post-processed blockwise
into the array store and scored from per-block sufficient statistics, with the scores of the
in-memory path (exact for VOI, adapted Rand and the overlap criteria)."""

import numpy as np
import pytest

from dacapo.experiments import run_state
from dacapo.experiments.run import Run
from dacapo.experiments.tasks import AffinitiesTaskConfig, DistanceTaskConfig
from dacapo.experiments.tasks.evaluators.statistics import COUNT_CRITERIA
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
