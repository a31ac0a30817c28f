"""The challenge scoring (the toolkit's current definitions) on hand-built cases, against
values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dacapo.cellmap.evaluate import (
    combine_scores,
    hausdorff_distance,
    instance_ratio_cutoff,
    max_distance_cap,
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


def counts(score):
    return score["tp"], score["fp"], score["fn"], score["hausdorff_distances"]


def test_distance_cap_is_half_the_smallest_physical_extent():
    assert max_distance_cap((4, 4, 4), (12, 10, 20)) == 20.0  # 10 voxels * 4 nm / 2
    assert max_distance_cap((8, 2, 2), (4, 40, 40)) == 16.0  # z: 32 nm < 80 nm
    # a connected prediction 190 voxels too long: its distance is capped at the crop's cap
    truth = box((4, 4, 200), ((0, 2, 0, 2, 0, 2), 1))
    glued = box((4, 4, 200), ((0, 2, 0, 2, 0, 192), 1))
    s = score_instance(glued, truth, (1, 1, 1))
    assert s["max_distance"] == 2.0 and counts(s) == (1, 0, 0, [2.0])
    assert score_instance(glued, truth, (1, 1, 1), max_distance=50.0)["hausdorff_distances"] == [50.0]


def test_perfect_prediction_scores_one():
    truth = box((12, 12, 12), ((1, 5, 1, 5, 1, 5), 1), ((6, 10, 6, 10, 6, 10), 2))
    s = score_instance(truth * 7, truth, V)  # ids need not match
    assert counts(s) == (2, 0, 0, [0.0, 0.0])
    assert (s["f1"], s["normalized_hausdorff_distance"], s["combined_score"]) == (1, 1, 1)
    # no background at all, and large ids
    full = box((4, 4, 4), ((0, 4, 0, 4, 0, 2), 2**40), ((0, 4, 0, 4, 2, 4), 5))
    assert score_instance(full, full, V)["combined_score"] == 1
    assert score_semantic(truth > 0, truth > 0)["iou"] == 1.0


def test_unmatched_true_instance_gets_the_cap():
    # crop 12^3 at 4 nm: cap 24 nm; the second true cube is not predicted
    truth = box((12, 12, 12), ((1, 5, 1, 5, 1, 5), 1), ((6, 10, 6, 10, 6, 10), 2))
    pred = box((12, 12, 12), ((1, 5, 1, 5, 1, 5), 3))
    s = score_instance(pred, truth, V)
    assert counts(s) == (1, 0, 1, [0.0, 24.0])
    assert s["f1"] == pytest.approx(2 / 3)
    assert s["normalized_hausdorff_distance"] == pytest.approx((1 + normalized(24)) / 2)
    assert normalized(24) > 0.9  # the unmatched truth's Hausdorff score is far from 0
    # nothing predicted: every true instance at the cap
    s = score_instance(np.zeros_like(truth), truth, V)
    assert counts(s) == (0, 0, 2, [24.0, 24.0]) and s["f1"] == 0 and s["combined_score"] == 0


def test_unmatched_prediction_adds_a_capped_entry():
    truth = box((12, 12, 12), ((1, 5, 1, 5, 1, 5), 1))
    pred = box((12, 12, 12), ((1, 5, 1, 5, 1, 5), 1), ((8, 10, 8, 10, 8, 10), 2))
    s = score_instance(pred, truth, V)
    assert counts(s) == (1, 1, 0, [0.0, 24.0]) and s["n_hausdorff"] == 2
    assert s["hausdorff_norm_sum"] == pytest.approx(1 + normalized(24))
    assert s["combined_score"] == pytest.approx(math.sqrt(2 / 3 * (1 + normalized(24)) / 2))
    # no true instance: only the predictions' entries
    s = score_instance(pred, np.zeros_like(truth), V)
    assert counts(s) == (0, 2, 0, [24.0, 24.0]) and s["f1"] == 0
    # nothing on either side: nothing pooled, the crop alone scores 1
    s = score_instance(np.zeros_like(truth), np.zeros_like(truth), V)
    assert counts(s) == (0, 0, 0, []) and s["combined_score"] == 1


def test_shifted_and_anisotropic():
    # a 4x4x4 cube shifted by 2 voxels along x: IoU 32/96, Hausdorff 2 voxels = 8 nm
    truth = box((8, 8, 12), ((2, 6, 2, 6, 2, 6), 1))
    pred = box((8, 8, 12), ((2, 6, 2, 6, 4, 8), 1))
    s = score_instance(pred, truth, V)
    assert counts(s) == (1, 0, 0, [8.0])
    assert s["combined_score"] == pytest.approx(math.sqrt(normalized(8.0)))
    # with an IoU threshold above 1/3 the shifted cube is no match: one fn, one fp
    s = score_instance(pred, truth, V, iou_threshold=0.4)
    assert counts(s) == (0, 1, 1, [16.0, 16.0])  # cap: 8 voxels * 4 nm / 2
    # anisotropic voxels: a shift of 2 voxels along z (8 nm voxels) is 16 nm; cap 12*8/2 = 48
    truth = box((12, 8, 8), ((2, 6, 2, 6, 2, 6), 1))
    pred = box((12, 8, 8), ((4, 8, 2, 6, 2, 6), 1))
    s = score_instance(pred, truth, (8, 4, 4))
    assert s["hausdorff_distances"] == [16.0] and s["max_distance"] == 16.0  # y, x: 8*4/2
    assert s["normalized_hausdorff_distance"] == pytest.approx(1.01 ** (-16 / math.sqrt(96)))
    assert hausdorff_distance(pred > 0, truth > 0, (8, 4, 4)) == pytest.approx(16.0)


def test_split_and_merged_instances():
    # one true object x in [0, 8); the prediction, one id, has a gap: pieces [0, 4) and [5, 8)
    truth = box((6, 6, 10), ((1, 5, 1, 5, 0, 8), 1))
    pred = box((6, 6, 10), ((1, 5, 1, 5, 0, 4), 3), ((1, 5, 1, 5, 5, 8), 3))
    s = score_instance(pred, truth, V)
    # connected components: 2 predicted instances; the [0, 4) piece (IoU 1/2) is the match; true
    # voxels at x = 7 are 4 voxels (16 nm) from it; the other piece is unmatched (cap 12 nm)
    assert s["num_pred_instances"] == 2 and counts(s) == (1, 1, 0, [12.0, 12.0])
    # two touching true objects predicted as one (IoU 1/2 with each): one is matched, at 16 nm
    # capped to 12; the other is unmatched (12)
    truth = box((6, 6, 10), ((1, 5, 1, 5, 0, 4), 1), ((1, 5, 1, 5, 4, 8), 2))
    s = score_instance((truth > 0).astype(np.uint8), truth, V)
    assert counts(s) == (1, 0, 1, [12.0, 12.0])
    # touching objects with their own ids are not merged by the connected components
    assert score_instance(truth, truth, V)["combined_score"] == 1


def test_matching_maximises_total_iou():
    # prediction A (id 6) overlaps true 1 (IoU 16/40) and true 2 (8/48); B (id 5) only true 1
    # (8/32). A-1 alone totals 0.4; the toolkit's optimum is A-2 and B-1 (1/6 + 1/4).
    truth = box((2, 2, 16), ((0, 2, 0, 2, 0, 8), 1), ((0, 2, 0, 2, 8, 16), 2))
    pred = box((2, 2, 16), ((0, 2, 0, 2, 0, 2), 5), ((0, 2, 0, 2, 4, 10), 6))
    s = score_instance(pred, truth, (1, 1, 1))
    assert s["tp"] == 2 and s["fp"] == 0 and s["fn"] == 0
    # a tie: A (x in [0, 3)) and B (x = 5, y in [0, 6)) both overlap the true object in 4 of 24
    # voxels; the later one (B) is matched, as the toolkit's solver does: 4 nm, A unmatched (cap 6)
    truth = box((12, 12, 12), ((0, 2, 0, 2, 2, 6), 1))
    pred = box((12, 12, 12), ((0, 2, 0, 2, 0, 3), 1), ((0, 2, 0, 6, 5, 6), 2))
    assert counts(score_instance(pred, truth, (1, 1, 1))) == (1, 1, 0, [4.0, 6.0])


def test_distance_to_the_match_only_not_to_a_prediction_sharing_its_renamed_id():
    # The toolkit renames matched predictions to their true ids but leaves unmatched ones with
    # their connected-component ids, so an unmatched prediction whose id equals a true id is
    # measured as part of that instance. Here component 1 (x in [0, 2), unmatched) and component
    # 2 (matched to true 1) would merge, giving 8 nm instead of 0 for true 1.
    truth = box((20, 20, 24), ((0, 2, 0, 2, 8, 12), 1))
    pred = box((20, 20, 24), ((0, 2, 0, 2, 0, 2), 9), ((0, 2, 0, 2, 8, 12), 4))
    s = score_instance(pred, truth, (1, 1, 1))
    assert counts(s) == (1, 1, 0, [0.0, 10.0])  # cap: 20 voxels / 2


def test_crop_with_too_many_predicted_instances_is_skipped():
    # one true instance: the cutoff is 10 + 50 exp(-1/5) = 50.9 predictions per true instance
    assert instance_ratio_cutoff(1) == pytest.approx(10 + 50 * math.exp(-0.2))
    assert instance_ratio_cutoff(1000) == pytest.approx(10)
    truth = np.zeros((3, 12, 12), np.uint64)
    truth[0, 0, 0] = 1
    specks = np.zeros_like(truth)
    specks[::2, ::2, ::2] = 1  # 2 * 6 * 6 = 72 isolated voxels
    for n, skipped in ((50, False), (51, True)):
        pred = specks.copy()
        pred.flat[np.flatnonzero(specks)[n:]] = 0
        s = score_instance(pred, truth, V)
        assert s["num_pred_instances"] == n
        assert (s["status"] == "skipped_too_many_instances") == skipped
        if skipped:
            assert counts(s) == (0, 0, 0, []) and s["combined_score"] is None
        else:
            assert counts(s)[:3] == (1, n - 1, 0)


def test_semantic_counts_by_hand():
    truth = np.zeros((4, 4, 4), np.uint8)
    truth.flat[:10] = 1
    pred = np.zeros_like(truth)
    pred.flat[4:18] = 1  # 6 of the 10 true voxels, 8 extra
    s = score_semantic(pred, truth)
    assert (s["tp"], s["fp"], s["fn"]) == (6, 8, 4)
    assert s["iou"] == pytest.approx(6 / 18) and s["dice_score"] == pytest.approx(12 / 24)


def _instance(tp, fp, fn, distances, norm=1.0):
    return {"tp": tp, "fp": fp, "fn": fn, "hausdorff_norm_sum": sum(normalized(d, norm) for d in distances),
            "n_hausdorff": len(distances), "is_missing": False}


def _semantic(tp, fp, fn, missing=False):
    return {"tp": tp, "fp": fp, "fn": fn, "is_missing": missing}


def test_pooling_sums_counts_over_crops_without_volume_weights():
    scores = {
        # a small crop: one perfect match
        "small": {"mito": _instance(1, 0, 0, [0.0]), "ecs": _semantic(10, 0, 0)},
        # a crop 1000x larger: one match at 10 nm, one missed true instance (cap 50), one extra
        "large": {"mito": _instance(1, 1, 1, [10.0, 50.0, 50.0]), "ecs": _semantic(0, 30, 0)},
    }
    result = combine_scores(scores, instance_classes=["mito"])
    mito = result["label_scores"]["mito"]
    assert (mito["tp"], mito["fp"], mito["fn"], mito["n_hausdorff"]) == (2, 1, 1, 4)
    f1 = 4 / 6
    hausdorff = (1 + normalized(10, 1) + 2 * normalized(50, 1)) / 4
    assert mito["f1"] == pytest.approx(f1)
    assert mito["normalized_hausdorff_distance"] == pytest.approx(hausdorff)
    assert mito["combined_score"] == pytest.approx(math.sqrt(f1 * hausdorff))
    assert result["label_scores"]["ecs"]["iou"] == pytest.approx(10 / 40)  # not (1 + 0) / 2
    assert result["overall_instance_score"] == pytest.approx(math.sqrt(f1 * hausdorff))
    assert result["overall_score"] == pytest.approx(math.sqrt(math.sqrt(f1 * hausdorff) * 0.25))


def test_classes_are_plain_means_and_one_kind_alone_scores_zero():
    scores = {"c": {"a": _semantic(1, 0, 0), "b": _semantic(1, 3, 0), "m": _instance(0, 0, 0, [])}}
    result = combine_scores(scores, instance_classes=["m"])
    assert result["label_scores"]["m"]["combined_score"] == 1  # nothing anywhere
    assert result["overall_semantic_score"] == pytest.approx((1 + 0.25) / 2)
    semantic_only = combine_scores({"c": {k: scores["c"][k] for k in "ab"}}, instance_classes=["m"])
    assert semantic_only["overall_instance_score"] == 0 and semantic_only["overall_score"] == 0
    assert combine_scores({}, instance_classes=["m"])["overall_score"] == 0
    missing = {"c": {"a": _semantic(1, 0, 0), "b": _semantic(0, 0, 8, missing=True)}}
    assert combine_scores(missing, [])["overall_semantic_score"] == 0.5
    assert combine_scores(missing, [], include_missing=False)["label_scores"].keys() == {"a"}


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


def test_submission_on_disk_two_crops_of_different_sizes_and_missing_labels(tmp_path):
    # crop1 (4 nm, 10^3 voxels): mito perfect; ecs tp 200, fp 200, fn 200; nuc not annotated
    # crop2 (8 nm, 10^3 voxels): mito shifted by 16 nm, predicted at 16 nm in another
    #   translation; ecs and nuc (2 instances) missing from the submission
    mito1 = box((10, 10, 10), ((1, 5, 1, 5, 1, 5), 1))
    ecs1 = np.zeros((10, 10, 10), np.uint8)
    ecs1[:4] = 1
    ecs1_pred = np.zeros_like(ecs1)
    ecs1_pred[:2] = 1
    ecs1_pred[4:6] = 1
    mito2 = box((10, 10, 10), ((2, 6, 2, 6, 2, 6), 1))
    ecs2 = np.zeros((10, 10, 10), np.uint8)
    ecs2[6:] = 1
    nuc2 = box((10, 10, 10), ((0, 2, 0, 2, 0, 2), 3), ((5, 7, 5, 7, 5, 7), 8))
    truth = {
        "crop1": {"mito": (mito1, (4, 4, 4), (0, 0, 0)), "ecs": (ecs1, (4, 4, 4), (0, 0, 0))},
        "crop2": {
            "mito": (mito2, (8, 8, 8), (80, 80, 80)),
            "ecs": (ecs2, (8, 8, 8), (80, 80, 80)),
            "nuc": (nuc2, (8, 8, 8), (80, 80, 80)),
        },
    }
    # truth voxels [2, 6) of crop2 are world [96, 128); the prediction is at x world [112, 144)
    mito2_pred = np.zeros((6, 6, 6), np.uint64)  # 16 nm grid from world 64
    mito2_pred[2:4, 2:4, 3:5] = 1
    write_submission(
        tmp_path / "submission.zarr",
        {
            "crop1": {"mito": (mito1, (4, 4, 4), (0, 0, 0)), "ecs": (ecs1_pred, (4, 4, 4), (0, 0, 0))},
            "crop2": {"mito": (mito2_pred, (16, 16, 16), (64, 64, 64))},
        },
        instance_classes=["mito", "nuc"],
    )
    result = score_submission(tmp_path / "submission.zarr", truth, instance_classes=["mito", "nuc"])
    crops = result["crops"]
    assert counts(crops["crop1"]["mito"]) == (1, 0, 0, [0.0]) and crops["crop1"]["mito"]["max_distance"] == 20
    assert counts(crops["crop2"]["mito"]) == (1, 0, 0, [16.0]) and crops["crop2"]["mito"]["max_distance"] == 40
    assert (crops["crop1"]["ecs"]["tp"], crops["crop1"]["ecs"]["fp"], crops["crop1"]["ecs"]["fn"]) == (200, 200, 200)
    assert crops["crop2"]["ecs"]["fn"] == 1000 and crops["crop2"]["ecs"]["status"] == "missing"
    assert counts(crops["crop2"]["nuc"]) == (0, 0, 2, [np.inf, np.inf]) and crops["crop2"]["nuc"]["is_missing"]
    labels = result["label_scores"]
    mito = math.sqrt((1 + 1.01 ** (-16 / math.sqrt(3 * 64))) / 2)  # f1 1, mean of the two entries
    assert labels["mito"]["combined_score"] == pytest.approx(mito)
    assert labels["nuc"]["f1"] == 0 and labels["nuc"]["n_hausdorff"] == 2 and labels["nuc"]["combined_score"] == 0
    assert labels["ecs"]["iou"] == pytest.approx(200 / 1600)
    assert result["overall_instance_score"] == pytest.approx(mito / 2)
    assert result["overall_score"] == pytest.approx(math.sqrt(mito / 2 * 200 / 1600))


def test_truth_masks_limit_where_a_label_is_scored(tmp_path):
    # truth zarr with <label>_mask arrays: predictions outside the mask do not count
    ecs = np.zeros((10, 10, 10), np.uint8)
    ecs[:4] = 1
    ecs_pred = ecs.copy()
    ecs_pred[8:] = 1  # outside the mask
    mito = box((10, 10, 10), ((1, 4, 1, 4, 1, 4), 1))
    mito_pred = box((10, 10, 10), ((1, 4, 1, 4, 1, 4), 1), ((7, 9, 7, 9, 7, 9), 2))
    mask = np.ones((10, 10, 10), np.uint8)
    mask[6:] = 0
    at = ((4, 4, 4), (0, 0, 0))
    write_submission(
        tmp_path / "truth.zarr",
        {"crop1": {"ecs": (ecs, *at), "ecs_mask": (mask, *at), "mito": (mito, *at), "mito_mask": (mask, *at)}},
        instance_classes=["mito"],
    )
    write_submission(tmp_path / "sub.zarr", {"crop1": {"ecs": (ecs_pred, *at), "mito": (mito_pred, *at)}},
                     instance_classes=["mito"])
    result = score_submission(tmp_path / "sub.zarr", tmp_path / "truth.zarr", instance_classes=["mito"])
    assert set(result["crops"]["crop1"]) == {"ecs", "mito"}
    assert result["label_scores"]["ecs"]["iou"] == 1 and result["label_scores"]["mito"]["fp"] == 0
    # unmasked, the extra voxels count
    write_submission(tmp_path / "truth.zarr", {"crop1": {"ecs": (ecs, *at), "mito": (mito, *at)}},
                     instance_classes=["mito"])
    result = score_submission(tmp_path / "sub.zarr", tmp_path / "truth.zarr", instance_classes=["mito"])
    assert result["label_scores"]["ecs"]["fp"] == 200 and result["label_scores"]["mito"]["fp"] == 1


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
