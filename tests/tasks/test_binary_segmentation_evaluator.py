import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dacapo.experiments.tasks.evaluators import (
    BinarySegmentationEvaluationScores,
    BinarySegmentationEvaluator,
    EvaluationScores,
    Evaluator,
    MultiChannelBinarySegmentationEvaluationScores,
    binary_segmentation_scores,
)

CRITERIA = BinarySegmentationEvaluationScores.criteria


def scores(test, truth, vs, tol=0.0, clip=1e9, valid=None):
    return binary_segmentation_scores(
        np.asarray(test, bool), np.asarray(truth, bool), vs, tol, clip, valid=valid
    )


def square(shape, rows, cols):
    a = np.zeros(shape, bool)
    a[rows, cols] = True
    return a


def test_criteria_list():
    assert CRITERIA == [
        "dice", "jaccard", "hausdorff", "false_negative_rate",
        "false_negative_rate_with_tolerance", "false_positive_rate", "false_discovery_rate",
        "false_positive_rate_with_tolerance", "mean_false_distance",
        "mean_false_negative_distance", "mean_false_positive_distance",
        "mean_false_distance_clipped", "mean_false_negative_distance_clipped",
        "mean_false_positive_distance_clipped", "precision_with_tolerance",
        "recall_with_tolerance", "f1_score_with_tolerance", "precision", "recall", "f1_score",
    ]  # fmt: skip
    higher = {c for c in CRITERIA if BinarySegmentationEvaluationScores.higher_is_better(c)}
    assert higher == {
        "dice", "jaccard", "precision", "recall", "f1_score", "precision_with_tolerance",
        "recall_with_tolerance", "f1_score_with_tolerance",
    }  # fmt: skip
    assert BinarySegmentationEvaluationScores.bounds("dice") == (0.0, 1.0)
    assert BinarySegmentationEvaluationScores.bounds("hausdorff") == (0.0, None)
    assert BinarySegmentationEvaluationScores.store_best("dice")
    assert not BinarySegmentationEvaluationScores.store_best("precision")
    with pytest.raises(ValueError, match="unknown criterion"):
        BinarySegmentationEvaluationScores.higher_is_better("voi")


def test_perfect():
    a = square((6, 6), slice(1, 4), slice(2, 5))
    s = scores(a, a, (4, 4))
    for c in CRITERIA:
        expected = 1.0 if BinarySegmentationEvaluationScores.higher_is_better(c) else 0.0
        assert getattr(s, c) == expected, c


def test_both_empty_is_perfect():
    e = np.zeros((4, 5), bool)
    s = scores(e, e, (1, 1))
    assert s.dice == 1 and s.jaccard == 1 and s.hausdorff == 0 and s.f1_score_with_tolerance == 1
    assert not any(math.isnan(v) for v in s.to_dict().values())


def test_empty_prediction():
    gt = square((6, 6), slice(0, 2), slice(0, 2))
    s = scores(np.zeros_like(gt), gt, (10, 10), tol=5.0, clip=30.0)
    assert s.dice == 0 and s.jaccard == 0 and s.f1_score == 0
    assert s.recall == 0 and math.isnan(s.precision) and math.isnan(s.false_discovery_rate)
    assert s.false_negative_rate == 1 and s.false_positive_rate == 0
    assert s.hausdorff == math.inf and s.mean_false_negative_distance == math.inf
    assert s.mean_false_positive_distance == 0 and s.mean_false_distance == math.inf
    assert s.mean_false_negative_distance_clipped == 30 and s.mean_false_distance_clipped == 15
    assert s.recall_with_tolerance == 0 and s.f1_score_with_tolerance == 0
    assert s.false_negative_rate_with_tolerance == 1


def test_empty_gt():
    pred = square((6, 6), slice(0, 2), slice(0, 3))
    s = scores(pred, np.zeros_like(pred), (10, 10), tol=5.0, clip=30.0)
    assert s.dice == 0 and s.precision == 0 and math.isnan(s.recall)
    assert math.isnan(s.false_negative_rate) and s.false_discovery_rate == 1
    assert s.false_positive_rate == pytest.approx(6 / 36)
    assert s.false_positive_rate_with_tolerance == pytest.approx(6 / 36)
    assert s.hausdorff == math.inf and s.mean_false_positive_distance == math.inf
    assert s.mean_false_positive_distance_clipped == 30 and s.f1_score_with_tolerance == 0


def test_shifted_square_anisotropic():
    gt = square((10, 10), slice(2, 6), slice(2, 6))
    pred = square((10, 10), slice(2, 6), slice(3, 7))  # shifted one voxel along x
    vs = (8, 4)
    s = scores(pred, gt, vs, tol=3.0)
    # TP 12, FP 4, FN 4, 84 gt background voxels
    assert s.dice == pytest.approx(24 / 32) and s.f1_score == pytest.approx(0.75)
    assert s.jaccard == pytest.approx(12 / 20)
    assert s.precision == pytest.approx(0.75) and s.recall == pytest.approx(0.75)
    assert s.false_negative_rate == pytest.approx(0.25)
    assert s.false_discovery_rate == pytest.approx(0.25)
    assert s.false_positive_rate == pytest.approx(4 / 84)
    assert s.hausdorff == pytest.approx(4.0)  # one voxel along x (4 nm)
    assert s.mean_false_positive_distance == pytest.approx(4 * 4 / 16)
    assert s.mean_false_negative_distance == pytest.approx(1.0)
    assert s.mean_false_distance == pytest.approx(1.0)
    assert s.precision_with_tolerance == pytest.approx(0.75)  # 4 nm > tol 3 nm
    assert s.false_positive_rate_with_tolerance == pytest.approx(4 / 84)
    s_tol = scores(pred, gt, vs, tol=4.0)
    assert s_tol.precision_with_tolerance == 1 and s_tol.recall_with_tolerance == 1
    assert s_tol.f1_score_with_tolerance == 1 and s_tol.false_negative_rate_with_tolerance == 0
    # shifted along y instead: 8 nm
    s_y = scores(square((10, 10), slice(3, 7), slice(2, 6)), gt, vs)
    assert s_y.hausdorff == pytest.approx(8.0) and s_y.dice == pytest.approx(0.75)


def test_partial_overlap():
    gt = square((6, 6), slice(0, 4), slice(0, 4))
    pred = square((6, 6), slice(0, 2), slice(0, 4))
    s = scores(pred, gt, (10, 10), tol=10.0, clip=15.0)
    # TP 8, FP 0, FN 8; missed rows 2 and 3 are 10 and 20 nm from the prediction
    assert s.dice == pytest.approx(2 / 3) and s.jaccard == pytest.approx(0.5)
    assert s.precision == 1 and s.recall == pytest.approx(0.5)
    assert s.false_discovery_rate == 0 and s.false_positive_rate == 0
    assert s.hausdorff == pytest.approx(20.0)
    assert s.mean_false_negative_distance == pytest.approx((4 * 10 + 4 * 20) / 16)
    assert s.mean_false_positive_distance == 0
    assert s.mean_false_distance == pytest.approx(3.75)
    assert s.mean_false_negative_distance_clipped == pytest.approx((4 * 10 + 4 * 15) / 16)
    assert s.recall_with_tolerance == pytest.approx(12 / 16)
    assert s.false_negative_rate_with_tolerance == pytest.approx(4 / 16)
    assert s.precision_with_tolerance == 1
    assert s.f1_score_with_tolerance == pytest.approx(2 * 0.75 / 1.75)


def test_hausdorff_3d_diagonal():
    pred = np.zeros((3, 4, 5), bool)
    gt = np.zeros((3, 4, 5), bool)
    pred[0, 0, 0] = True
    gt[1, 2, 3] = True
    s = scores(pred, gt, (40, 8, 4))
    assert s.hausdorff == pytest.approx(math.sqrt(40**2 + 16**2 + 12**2))
    assert s.mean_false_positive_distance == pytest.approx(math.sqrt(2000))
    assert s.dice == 0 and s.precision == 0 and s.recall == 0


def test_valid_mask_ignores_voxels():
    gt = square((4, 4), slice(0, 2), slice(0, 4))
    pred = gt.copy()
    pred[3, 3] = True  # false positive in an unannotated voxel
    valid = np.ones((4, 4), bool)
    valid[3] = False
    s = scores(pred, gt, (1, 1), valid=valid)
    assert s.dice == 1 and s.false_positive_rate == 0
    assert scores(pred, gt, (1, 1)).dice < 1


def test_evaluator_multichannel():
    ev = BinarySegmentationEvaluator(clip_distance=15.0, tol_distance=10.0, channels=["a", "b"])
    assert isinstance(ev, Evaluator)
    gt = np.zeros((2, 6, 6), np.uint8)
    gt[0, :4, :4] = 1
    gt[1, 1:3, 1:3] = 1
    out = gt.copy()
    out[0, 2:4] = 0
    result = ev.evaluate(out, gt, (10, 10))
    assert isinstance(result, MultiChannelBinarySegmentationEvaluationScores)
    assert isinstance(result, EvaluationScores)
    assert result.criteria == ev.criteria == [f"{c}__{k}" for c in ("a", "b") for k in CRITERIA]
    d = result.to_dict()
    assert list(d) == ev.criteria
    assert d["a__dice"] == pytest.approx(2 / 3) and d["b__dice"] == 1.0
    assert result.a__jaccard == pytest.approx(0.5) and result["b__hausdorff"] == 0
    assert result.channel("a").recall == pytest.approx(0.5)
    assert ev.higher_is_better("a__dice") and not ev.higher_is_better("b__hausdorff")
    assert ev.bounds("a__mean_false_distance_clipped") == (0.0, 15.0)
    assert ev.bounds("a__hausdorff") == (0.0, None) and ev.bounds("a__dice") == (0.0, 1.0)
    assert ev.store_best("a__dice") and not ev.store_best("a__recall")
    restored = MultiChannelBinarySegmentationEvaluationScores.from_dict(d)
    assert restored.criteria == result.criteria
    assert restored.a__dice == result.a__dice
    empty = ev.score
    assert empty.criteria == ev.criteria and all(math.isnan(v) for v in empty.to_dict().values())
    # channel names with "__" still parse
    odd = BinarySegmentationEvaluator(1.0, 1.0, ["x__y"]).evaluate(gt[:1], gt[:1], (1, 1))
    assert odd.x__y__dice == 1.0 and odd.higher_is_better("x__y__dice")
    with pytest.raises(AttributeError):
        result.c__dice
    with pytest.raises(ValueError, match="channel"):
        ev.evaluate(gt[:1], gt[:1], (1, 1))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_evaluator_funlib_arrays():
    from funlib.geometry import Coordinate, Roi
    from funlib.persistence import Array

    gt = np.zeros((1, 6, 6), np.uint8)
    gt[0, 2:4, 2:4] = 1
    out = np.ones((1, 4, 4), np.uint8)
    vs = Coordinate(8, 8)
    gt_array = Array(gt, offset=Coordinate(0, 0), voxel_size=vs, axis_names=["c^", "y", "x"])
    out_array = Array(out, offset=Coordinate(16, 16), voxel_size=vs, axis_names=["c^", "y", "x"])
    assert out_array.roi == Roi((16, 16), (32, 32))
    ev = BinarySegmentationEvaluator(80.0, 8.0, ["a"])
    s = ev.evaluate(out_array, gt_array)
    # common ROI: gt[2:6, 2:6] (4 fg voxels) vs all-ones
    assert s.a__precision == pytest.approx(4 / 16) and s.a__recall == 1


def test_compare_and_best_handle_nan():
    ev = BinarySegmentationEvaluator(80.0, 8.0, ["a"])
    nan = float("nan")
    assert ev.compare(0.5, 0.4, "a__dice") and not ev.compare(0.4, 0.5, "a__dice")
    assert ev.compare(1.0, 2.0, "a__hausdorff") and ev.compare(1.0, math.inf, "a__hausdorff")
    assert ev.compare(0.1, nan, "a__dice") and not ev.compare(nan, 0.1, "a__dice")
    assert not ev.compare(nan, nan, "a__dice") and ev.compare(0.0, None, "a__dice")
    assert not ev.compare(0.5, 0.5, "a__dice")
    assert BinarySegmentationEvaluationScores.compare(2.0, 3.0, "hausdorff")
    assert ev.is_best("val", 0, "a__dice", 0.3)
    ev.set_best("val", 0, "a__dice", 100, 0.3)
    assert not ev.is_best("val", 0, "a__dice", 0.2) and ev.is_best("val", 0, "a__dice", 0.4)
    assert not ev.is_best("val", 0, "a__recall", 1.0)  # best of one-sided criteria not stored
    assert ev.best_scores[("val", 0, "a__dice")] == (100, 0.3)


small_pairs = st.integers(1, 3).flatmap(
    lambda n: st.tuples(*[st.integers(1, 6)] * n).flatmap(
        lambda shape: st.tuples(hnp.arrays(np.bool_, shape), hnp.arrays(np.bool_, shape))
    )
)


def brute_hausdorff(a, b, vs):
    pa = np.argwhere(a) * np.asarray(vs, float)
    pb = np.argwhere(b) * np.asarray(vs, float)
    if len(pa) == 0 and len(pb) == 0:
        return 0.0
    if len(pa) == 0 or len(pb) == 0:
        return math.inf
    d = np.sqrt(((pa[:, None] - pb[None]) ** 2).sum(-1))
    return max(d.min(1).max(), d.min(0).max())


@settings(max_examples=150, deadline=None)
@given(pair=small_pairs, tol=st.sampled_from([0.0, 3.0, 10.0]))
def test_properties_random_masks(pair, tol):
    test, truth = pair
    vs = (5, 3, 2)[: test.ndim]
    s = scores(test, truth, vs, tol=tol, clip=7.0)
    equal = bool((test == truth).all())
    assert 0 <= s.dice <= 1 and 0 <= s.jaccard <= 1
    assert (s.dice == 1) == equal
    assert s.jaccard == pytest.approx(s.dice / (2 - s.dice))
    assert s.f1_score == s.dice
    assert s.jaccard <= s.dice + 1e-12
    assert s.hausdorff == pytest.approx(brute_hausdorff(test, truth, vs), rel=1e-5)
    for c in CRITERIA:
        v = getattr(s, c)
        lower, upper = BinarySegmentationEvaluationScores.bounds(c)
        if not math.isnan(v):
            assert v >= lower and (upper is None or v <= upper), (c, v)
    assert s.mean_false_distance_clipped <= 7.0
    if not math.isnan(s.precision):
        assert s.precision_with_tolerance >= s.precision - 1e-12
    if not math.isnan(s.recall):
        assert s.recall_with_tolerance >= s.recall - 1e-12
    # symmetric roles
    r = scores(truth, test, vs, tol=tol, clip=7.0)
    assert r.dice == s.dice and r.hausdorff == s.hausdorff
    assert r.mean_false_positive_distance == s.mean_false_negative_distance
