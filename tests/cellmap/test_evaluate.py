"""The challenge scoring on hand-built cases, against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dacapo.cellmap.evaluate import (
    combine_scores,
    default_max_distance,
    hausdorff_distance,
    resample_to_grid,
    score_instance,
    score_semantic,
    score_submission,
)
from dacapo.cellmap.submission import write_submission

V = (4, 4, 4)
NORM = 4 * math.sqrt(3)  # ||voxel size||


def box(shape, *boxes):
    """A label volume with ``boxes`` = ((z0, z1, y0, y1, x0, x1), id) pairs."""
    out = np.zeros(shape, np.uint64)
    for (z0, z1, y0, y1, x0, x1), label in boxes:
        out[z0:z1, y0:y1, x0:x1] = label
    return out


def normalized(d, norm=NORM):
    return 1.01 ** (-d / norm)


def test_perfect_prediction_scores_one():
    truth = box((12, 12, 12), ((1, 5, 1, 5, 1, 5), 1), ((6, 10, 6, 10, 6, 10), 2))
    pred = truth * 7  # ids need not match
    s = score_instance(pred, truth, V)
    assert (s["f1"], s["hausdorff_distance"], s["normalized_hausdorff_distance"], s["combined_score"]) == (1, 0, 1, 1)
    assert score_semantic(truth > 0, truth > 0) == {"iou": 1.0, "dice_score": 1.0}
    # no background at all, and large ids
    full = box((4, 4, 4), ((0, 4, 0, 4, 0, 2), 2**40), ((0, 4, 0, 4, 2, 4), 5))
    assert score_instance(full, full, V)["combined_score"] == 1


def test_empty_prediction_and_empty_truth():
    truth = box((8, 8, 8), ((1, 5, 1, 5, 1, 5), 1))
    empty = np.zeros_like(truth)
    s = score_instance(empty, truth, V)
    assert s["f1"] == 0 and s["combined_score"] == 0 and s["hausdorff_distance"] == np.inf
    s = score_instance(truth, empty, V)  # predicted objects where there are none
    assert s["f1"] == 0 and s["combined_score"] == 0 and s["num_pred_instances"] == 1
    s = score_instance(empty, empty, V)
    assert s["f1"] == 1 and s["combined_score"] == 1 and s["hausdorff_distance"] == 0
    assert score_semantic(empty, truth)["iou"] == 0
    assert score_semantic(empty, empty) == {"iou": 1.0, "dice_score": 1.0}


def test_shifted_instance():
    # a 4x4x4 cube shifted by 2 voxels along x: IoU 32/96, Hausdorff 2 voxels = 8 nm
    truth = box((8, 8, 12), ((2, 6, 2, 6, 2, 6), 1))
    pred = box((8, 8, 12), ((2, 6, 2, 6, 4, 8), 1))
    s = score_instance(pred, truth, V)
    assert s["f1"] == 1 and s["true_positives"] == 1
    assert s["hausdorff_distance"] == pytest.approx(8.0)
    assert s["normalized_hausdorff_distance"] == pytest.approx(normalized(8.0))
    assert s["combined_score"] == pytest.approx(math.sqrt(normalized(8.0)))
    # with an IoU threshold above 1/3 the shifted cube is no match
    s = score_instance(pred, truth, V, iou_threshold=0.4)
    assert s["f1"] == 0 and s["combined_score"] == 0
    # anisotropic voxels: a shift of 2 voxels along z (8 nm voxels) is 16 nm
    truth = box((12, 8, 8), ((2, 6, 2, 6, 2, 6), 1))
    pred = box((12, 8, 8), ((4, 8, 2, 6, 2, 6), 1))
    s = score_instance(pred, truth, (8, 4, 4))
    assert s["hausdorff_distance"] == pytest.approx(16.0)
    assert s["normalized_hausdorff_distance"] == pytest.approx(1.01 ** (-16 / math.sqrt(96)))
    assert hausdorff_distance(pred > 0, truth > 0, (8, 4, 4)) == pytest.approx(16.0)


def test_split_instance():
    # one true object x in [0, 8); the prediction, one id, has a gap: pieces [0, 4) and [5, 8)
    truth = box((6, 6, 10), ((1, 5, 1, 5, 0, 8), 1))
    pred = box((6, 6, 10), ((1, 5, 1, 5, 0, 4), 3), ((1, 5, 1, 5, 5, 8), 3))
    s = score_instance(pred, truth, V)
    # connected components: 2 predicted instances; the [0, 4) piece (IoU 1/2) is the match
    assert s["num_pred_instances"] == 2 and s["true_positives"] == 1
    assert s["f1"] == pytest.approx(2 / 3)
    # true voxels at x = 7 are 4 voxels (16 nm) from the matched piece
    assert s["hausdorff_distance"] == pytest.approx(16.0)
    assert s["combined_score"] == pytest.approx(math.sqrt(2 / 3 * normalized(16.0)))


def test_merged_instances():
    # two touching true objects, x in [0, 4) and [4, 8), predicted as one object
    truth = box((6, 6, 10), ((1, 5, 1, 5, 0, 4), 1), ((1, 5, 1, 5, 4, 8), 2))
    pred = (truth > 0).astype(np.uint8)
    s = score_instance(pred, truth, V)
    assert s["num_pred_instances"] == 1 and s["true_positives"] == 1
    assert s["f1"] == pytest.approx(2 / 3)
    assert s["hausdorff_distance"] == np.inf  # the unmatched true object
    # matched: 16 nm (pred voxels at x = 7 vs true x <= 3); unmatched: 0
    assert s["normalized_hausdorff_distance"] == pytest.approx(normalized(16.0) / 2)
    assert s["combined_score"] == pytest.approx(math.sqrt(2 / 3 * normalized(16.0) / 2))
    # touching objects with their own ids are not merged by the connected components
    assert score_instance(truth, truth, V)["combined_score"] == 1


def test_distance_cap():
    # objects far apart are matched only if they overlap: a far object is a miss
    truth = box((4, 4, 200), ((0, 2, 0, 2, 0, 2), 1))
    pred = box((4, 4, 200), ((0, 2, 0, 2, 0, 2), 1), ((0, 2, 0, 2, 190, 192), 1))
    s = score_instance(pred > 0, truth, (1, 1, 1), max_distance=50.0)
    # one prediction (same id, two pieces -> two instances): the overlapping one is matched,
    # its Hausdorff 0; the far piece is a false positive
    assert s["f1"] == pytest.approx(2 / 3) and s["hausdorff_distance"] == 0
    glued = box((4, 4, 200), ((0, 2, 0, 2, 0, 192), 1))  # connected, 190 voxels too long
    s = score_instance(glued, truth, (1, 1, 1), max_distance=50.0)
    assert s["hausdorff_distance"] == 50.0
    assert default_max_distance(V) == pytest.approx(NORM * math.log(1e4) / math.log(1.01))
    assert normalized(default_max_distance(V)) == pytest.approx(1e-4)


def test_semantic_iou_by_hand():
    truth = np.zeros((4, 4, 4), np.uint8)
    truth.flat[:10] = 1
    pred = np.zeros_like(truth)
    pred.flat[4:18] = 1  # 6 of the 10 true voxels, 8 extra
    s = score_semantic(pred, truth)
    assert s["iou"] == pytest.approx(6 / 18)
    assert s["dice_score"] == pytest.approx(12 / 24)


def test_resampling_to_the_truth_grid():
    # truth at 4 nm, translated; prediction at 8 nm covering a larger region
    truth = box((8, 8, 8), ((2, 6, 2, 6, 2, 6), 5))
    translation = (40, 40, 40)
    coarse = np.zeros((8, 8, 8), np.uint64)
    coarse[6:8, 6:8, 6:8] = 9  # world [48, 64) = truth voxels [2, 6)
    out = resample_to_grid(coarse, (8, 8, 8), (0, 0, 0), truth.shape, V, translation, instance=True)
    assert np.array_equal(out > 0, truth > 0) and set(np.unique(out)) == {0, 9}
    # linear upsampling: the cube's outer truth voxels sit 1/4 coarse voxel from the edge, a
    # weight of 3/4 per axis: faces (3/4) and edges (9/16) stay > 0.5, corners (27/64) do not
    semantic = resample_to_grid(coarse > 0, (8, 8, 8), (0, 0, 0), truth.shape, V, translation, instance=False)
    expected = (truth > 0).astype(np.uint8)
    for z in (2, 5):
        for y in (2, 5):
            for x in (2, 5):
                expected[z, y, x] = 0
    assert np.array_equal(semantic, expected)
    # finer prediction (2 nm): linear interpolation then > 0.5
    fine = np.repeat(np.repeat(np.repeat(truth > 0, 2, 0), 2, 1), 2, 2)
    semantic = resample_to_grid(fine, (2, 2, 2), translation, truth.shape, V, translation, instance=False)
    assert np.array_equal(semantic, (truth > 0).astype(np.uint8))
    # a prediction covering only part of the crop: the rest is background
    half = resample_to_grid(np.ones((4, 8, 8), np.uint8), V, translation, truth.shape, V, translation, instance=False)
    assert half[:4].all() and not half[4:].any()


def test_score_instance_rejects_other_grids():
    with pytest.raises(ValueError, match="shape"):
        score_instance(np.zeros((2, 2, 2)), np.zeros((3, 3, 3)), V)


def test_submission_scores_pooled_over_crops_and_averaged_over_classes(tmp_path):
    # crop1 (4 nm, 10^3 voxels): mito perfect, ecs IoU 1/2
    # crop2 (8 nm, 10^3 voxels, 8x the volume): mito shifted (combined known), ecs perfect;
    #   the prediction of crop2 is at 16 nm, in a different translation
    mito1 = box((10, 10, 10), ((1, 5, 1, 5, 1, 5), 1))
    ecs1 = np.zeros((10, 10, 10), np.uint8)
    ecs1[:4] = 1
    ecs1_pred = np.zeros_like(ecs1)
    ecs1_pred[:2] = 1
    ecs1_pred[4:6] = 1  # intersection 2 slabs, union 6 slabs -> 1/3
    mito2 = box((10, 10, 10), ((2, 6, 2, 6, 2, 6), 1))
    ecs2 = np.zeros((10, 10, 10), np.uint8)
    ecs2[6:] = 1
    truth = {
        "crop1": {"mito": (mito1, (4, 4, 4), (0, 0, 0)), "ecs": (ecs1, (4, 4, 4), (0, 0, 0))},
        "crop2": {"mito": (mito2, (8, 8, 8), (80, 80, 80)), "ecs": (ecs2, (8, 8, 8), (80, 80, 80))},
    }
    # crop2 mito predicted at 16 nm, shifted by +16 nm (2 truth voxels) along x:
    # truth voxels [2, 6) -> world [96, 128); prediction world [112, 144) along x
    mito2_pred = np.zeros((6, 6, 6), np.uint64)  # 16 nm grid from world 64
    mito2_pred[2:4, 2:4, 3:5] = 1  # z,y world [96, 128), x world [112, 144)
    ecs2_pred = np.zeros((7, 7, 7), np.uint8)  # reaching past the crop: no edge effects
    ecs2_pred[4:] = 1  # z world [128, 160) = truth voxels [6, 10)
    write_submission(
        tmp_path / "submission.zarr",
        {
            "crop1": {"mito": (mito1, (4, 4, 4), (0, 0, 0)), "ecs": (ecs1_pred, (4, 4, 4), (0, 0, 0))},
            "crop2": {"mito": (mito2_pred, (16, 16, 16), (64, 64, 64)), "ecs": (ecs2_pred, (16, 16, 16), (64, 64, 64))},
        },
        instance_classes=["mito"],
    )
    result = score_submission(tmp_path / "submission.zarr", truth, instance_classes=["mito"])
    crops = result["crops"]
    assert crops["crop1"]["mito"]["combined_score"] == 1
    assert crops["crop1"]["ecs"]["iou"] == pytest.approx(1 / 3)
    assert crops["crop2"]["ecs"]["iou"] == 1
    shifted = math.sqrt(1.01 ** (-16 / math.sqrt(3 * 64)))  # 16 nm at 8 nm voxels, IoU > 0
    assert crops["crop2"]["mito"]["hausdorff_distance"] == pytest.approx(16.0)
    assert crops["crop2"]["mito"]["combined_score"] == pytest.approx(shifted)
    v1, v2 = 1000 * 64, 1000 * 512
    mito = (1 * v1 + shifted * v2) / (v1 + v2)
    ecs = (1 / 3 * v1 + 1 * v2) / (v1 + v2)
    assert result["label_scores"]["mito"]["combined_score"] == pytest.approx(mito)
    assert result["label_scores"]["ecs"]["iou"] == pytest.approx(ecs)
    assert result["overall_instance_score"] == pytest.approx(mito)
    assert result["overall_semantic_score"] == pytest.approx(ecs)
    assert result["overall_score"] == pytest.approx(math.sqrt(mito * ecs))


def test_missing_label_scores_zero_and_classes_are_averaged():
    scores = {
        "crop1": {
            "a": {"iou": 1.0, "dice_score": 1.0, "num_voxels": 10, "voxel_size": [1, 1, 1]},
            "b": {"iou": 0.0, "dice_score": 0.0, "num_voxels": 10, "voxel_size": [1, 1, 1], "is_missing": True},
        },
        "crop2": {"b": {"iou": 0.5, "dice_score": 0.5, "num_voxels": 30, "voxel_size": [1, 1, 1]}},
    }
    result = combine_scores(scores, instance_classes=[])
    assert result["label_scores"]["b"]["iou"] == pytest.approx(0.375)  # (0*10 + 0.5*30) / 40
    assert result["overall_semantic_score"] == pytest.approx((1 + 0.375) / 2)
    assert result["overall_instance_score"] is None
    assert result["overall_score"] == pytest.approx((1 + 0.375) / 2)
    assert combine_scores(scores, instance_classes=[], include_missing=False)["label_scores"]["b"]["iou"] == 0.5


@settings(max_examples=40, deadline=None)
@given(
    factor=st.sampled_from([1, 2, 3]),
    shift=st.tuples(*[st.integers(-6, 6)] * 3),
    shape=st.tuples(*[st.integers(1, 6)] * 3),
    seed=st.integers(0, 2**16),
)
def test_nearest_resampling_matches_repeat(factor, shift, shape, seed):
    """A coarse source (voxel size ``factor`` x the target's) sampled on a target grid shifted
    by ``shift`` target voxels equals the source repeated ``factor`` times, then shifted, with
    zeros outside."""
    rng = np.random.default_rng(seed)
    source = rng.integers(0, 4, size=shape).astype(np.uint64)
    fine = source
    for axis in range(3):
        fine = np.repeat(fine, factor, axis=axis)
    target_shape = tuple(s * factor for s in shape)
    translation = tuple(s * 2 for s in shift)  # target voxel size 2 nm, source 2 * factor nm
    out = resample_to_grid(source, (2 * factor,) * 3, (0, 0, 0), target_shape, (2, 2, 2), translation, instance=True)
    expected = np.zeros(target_shape, np.uint64)
    src = tuple(slice(max(0, s), min(n, n + s)) for s, n in zip(shift, target_shape))
    dst = tuple(slice(max(0, -s), max(0, -s) + (sl.stop - sl.start)) for s, sl in zip(shift, src))
    if all(sl.stop > sl.start for sl in src):
        expected[dst] = fine[src]
    assert np.array_equal(out, expected)
