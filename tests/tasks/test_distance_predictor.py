import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dacapo.experiments.tasks.predictors import DistancePredictor

VS = (40, 8, 4)  # anisotropic (z, y, x) nm


def brute_signed_distance(fg, voxel_size):
    """Reference: distance between voxel centres to the nearest voxel of the other class."""
    coords = np.stack(np.meshgrid(*[np.arange(s) for s in fg.shape], indexing="ij"), -1)
    coords = coords.reshape(-1, fg.ndim) * np.asarray(voxel_size, float)
    flat = fg.reshape(-1)
    out = np.empty(flat.shape, float)
    for i, (p, inside) in enumerate(zip(coords, flat)):
        others = coords[flat != inside]
        out[i] = np.inf if len(others) == 0 else np.sqrt(((others - p) ** 2).sum(1)).min()
    return np.where(flat, out, -out).reshape(fg.shape)


def cube():
    gt = np.zeros((1, 5, 7, 9), np.uint8)
    gt[0, 1:4, 1:6, 1:8] = 1
    return gt


def test_cube_distances_exact_anisotropic():
    p = DistancePredictor(["c"], scale_factor=20.0, mask_distances=False)
    d = p.signed_distances(cube(), VS)[0]
    assert d.dtype == np.float32
    assert d[2, 3, 4] == pytest.approx(16.0)  # inside: 4 voxels of 4 nm along x
    assert d[1, 1, 1] == pytest.approx(4.0)  # inside corner: nearest bg along x
    assert d[2, 1, 4] == pytest.approx(8.0)  # inside, next to the y face
    assert d[0, 3, 4] == pytest.approx(-40.0)  # outside, one slice above in z
    assert d[2, 3, 0] == pytest.approx(-4.0)  # outside, next to the x face
    assert d[4, 6, 8] == pytest.approx(-math.sqrt(40**2 + 8**2 + 4**2))  # diagonal corner
    t = p.create_target(cube(), VS)
    assert t.dtype == np.float32 and t.shape == (1, 5, 7, 9)
    assert t[0, 2, 3, 4] == pytest.approx(math.tanh(16 / 20))
    assert t[0, 0, 3, 4] == pytest.approx(math.tanh(-40 / 20))
    assert t[0, 4, 6, 8] == pytest.approx(math.tanh(-math.sqrt(1680) / 20))
    assert (t[0][cube()[0] == 1] > 0).all() and (t[0][cube()[0] == 0] < 0).all()


def test_sphere_matches_brute_force():
    z, y, x = np.meshgrid(np.arange(6), np.arange(11), np.arange(13), indexing="ij")
    sphere = ((z - 2.5) * 40) ** 2 + ((y - 5) * 8) ** 2 + ((x - 6) * 4) ** 2 <= 45**2
    p = DistancePredictor(["s"], scale_factor=30.0)
    d = p.signed_distances(sphere[None].astype(np.uint8), VS)[0]
    np.testing.assert_allclose(d, brute_signed_distance(sphere, VS), rtol=1e-5)
    t = p.create_target(sphere[None].astype(np.uint8), VS)[0]
    np.testing.assert_allclose(t, np.tanh(brute_signed_distance(sphere, VS) / 30.0), atol=1e-6)


def test_empty_and_full_channels_saturate():
    gt = np.zeros((3, 4, 5, 6), np.uint8)
    gt[0, 1:3, 1:3, 1:3] = 1
    gt[2] = 1  # full channel; channel 1 empty
    p = DistancePredictor(["a", "empty", "full"], scale_factor=10.0)
    d = p.signed_distances(gt, VS)
    assert np.isneginf(d[1]).all() and np.isposinf(d[2]).all()
    t = p.create_target(gt, VS)
    assert (t[1] == -1).all() and (t[2] == 1).all()
    assert np.isfinite(t).all() and np.abs(t).max() <= 1


def test_channel_axis_optional_and_checked():
    p = DistancePredictor(["a"], scale_factor=1.0)
    assert p.create_target(cube()[0], VS).shape == (1, 5, 7, 9)
    with pytest.raises(ValueError, match="channel"):
        DistancePredictor(["a", "b"]).create_target(cube(), VS)


def test_2d_and_1d():
    gt = np.zeros((1, 10), np.uint8)
    gt[0, 4:6] = 1
    d = DistancePredictor(["a"]).signed_distances(gt, (10,))[0]
    np.testing.assert_allclose(d, [-40, -30, -20, -10, 10, 10, -10, -20, -30, -40])
    gt2 = np.zeros((1, 4, 4), np.uint8)
    gt2[0, 0, 0] = 1
    d2 = DistancePredictor(["a"]).signed_distances(gt2, (3, 4))[0]
    assert d2[0, 0] == 3 and d2[1, 1] == -5 and d2[3, 3] == pytest.approx(-math.hypot(9, 12))


# --- weights -----------------------------------------------------------------------------------
def test_balance_weights():
    gt = np.zeros((2, 4, 4, 4), np.uint8)
    gt[0, :, :1] = 1  # 25 % foreground
    gt[1, 0, 0, 0] = 1  # 1/64 < clipmin: clipped to 0.05
    p = DistancePredictor(["a", "b"], scale_factor=10.0, clipmin=0.05, clipmax=0.95)
    w = p.create_weight(gt, p.create_target(gt, (1, 1, 1)), None, (1, 1, 1))
    assert w.dtype == np.float32 and w.shape == gt.shape
    np.testing.assert_allclose(w[0][gt[0] == 1], 2.0)  # 1 / (2 * 0.25)
    np.testing.assert_allclose(w[0][gt[0] == 0], 1 / 1.5)  # 1 / (2 * 0.75)
    np.testing.assert_allclose(w[1][gt[1] == 1], 10.0)  # 1 / (2 * 0.05)
    np.testing.assert_allclose(w[1][gt[1] == 0], 1 / 1.9)  # 63/64 clipped to 0.95
    # sum of weights per class is balanced when not clipped
    assert w[0][gt[0] == 1].sum() == pytest.approx(w[0][gt[0] == 0].sum())


def test_balance_weights_empty_channel_and_mask():
    gt = np.zeros((1, 2, 2, 4), np.uint8)
    gt[0, :, :, :2] = 1
    mask = np.ones((2, 2, 4), np.uint8)
    mask[:, :, 3] = 0  # valid: 8 fg, 4 bg
    p = DistancePredictor(["a"], scale_factor=1.0)
    w = p.create_weight(gt, p.create_target(gt, (1, 1, 1)), mask, (1, 1, 1))[0]
    assert (w[:, :, 3] == 0).all()
    np.testing.assert_allclose(w[:, :, :2], 1 / (2 * 8 / 12))
    np.testing.assert_allclose(w[:, :, 2], 1 / (2 * 4 / 12))
    empty = np.zeros_like(gt)
    we = p.create_weight(empty, p.create_target(empty, (1, 1, 1)), None, (1, 1, 1))
    np.testing.assert_allclose(we, 1 / 1.9)
    assert (p.create_weight(gt, p.create_target(gt, (1, 1, 1)), 0 * mask, (1, 1, 1)) == 0).all()


def test_per_channel_mask():
    gt = np.zeros((2, 3, 3, 3), np.uint8)
    gt[:, 1, 1, 1] = 1
    mask = np.ones((2, 3, 3, 3), np.uint8)
    mask[1] = 0  # second channel not annotated
    p = DistancePredictor(["a", "b"], scale_factor=1.0)
    w = p.create_weight(gt, p.create_target(gt, (1, 1, 1)), mask, (1, 1, 1))
    assert (w[0] > 0).all() and (w[1] == 0).all()
    with pytest.raises(ValueError, match="mask"):
        p.create_weight(gt, p.create_target(gt, (1, 1, 1)), mask[:, :2], (1, 1, 1))


def line(scale_factor, mask_distances=True):
    gt = np.zeros((1, 20), np.uint8)
    gt[0, 8:12] = 1
    p = DistancePredictor(["a"], scale_factor=scale_factor, mask_distances=mask_distances)
    return gt, p


def test_mask_distances_near_crop_border():
    gt, p = line(100.0)
    w = p.create_weight(gt, p.create_target(gt, (10,)), None, (10,))[0]
    # background voxel i < 8 is at 10 (8 - i) from the object and 10 (i + 1) from the unknown
    # voxel just outside the crop: exact iff 8 - i <= i + 1, i.e. i >= 4 (and i <= 15 on the right)
    assert (w[:4] == 0).all() and (w[16:] == 0).all()
    assert (w[4:16] > 0).all()
    _, p_off = line(100.0, mask_distances=False)
    assert (p_off.create_weight(gt, p.create_target(gt, (10,)), None, (10,)) > 0).all()


def test_mask_distances_saturation():
    gt, p = line(10.0)
    w = p.create_weight(gt, p.create_target(gt, (10,)), None, (10,))[0]
    # tanh(b / 10) >= 0.8 iff b >= 11: only the border voxels (b = 10) stay masked
    assert w[0] == 0 and w[19] == 0 and (w[1:19] > 0).all()
    empty = np.zeros_like(gt)
    we = p.create_weight(empty, p.create_target(empty, (10,)), None, (10,))[0]
    assert we[0] == 0 and we[19] == 0 and (we[1:19] > 0).all()
    _, big = line(1000.0)
    assert (big.create_weight(empty, big.create_target(empty, (10,)), None, (10,)) == 0).all()


def test_mask_distances_with_unannotated_voxels():
    gt, p = line(100.0)
    gt[0, 13] = 1  # a label inside the unannotated region must not be trusted
    mask = np.ones(20, np.uint8)
    mask[13:15] = 0
    target = p.create_target(gt, (10,))
    w = p.create_weight(gt, target, mask, (10,))[0]
    assert w[13] == 0 and w[14] == 0
    # i = 12: nearest known object voxel 11 (10 nm), unknown voxel 13 (10 nm): exact
    assert w[12] > 0 and target[0, 12] == pytest.approx(math.tanh(-10 / 100))
    # i = 15, 16: the object is 40/50 nm away, the unknown 10/20 nm: masked
    assert w[15] == 0 and w[16] == 0
    # i = 7: object 10 nm away, unknown voxels 60 nm, crop border 80 nm: exact
    assert w[7] > 0
    assert (w[:4] == 0).all() and (w[4:8] > 0).all()


def test_padding():
    p = DistancePredictor(["a"], scale_factor=160.0, mask_distances=True)
    pad = p.padding((40, 8, 8))
    reach = 160 * math.atanh(0.8)
    assert all(v % s == 0 and v >= reach for v, s in zip(pad, (40, 8, 8)))
    assert tuple(DistancePredictor(["a"], 160.0, False).padding((8, 8))) == (0, 0)




@settings(max_examples=25, deadline=None)
@given(
    full=hnp.arrays(np.bool_, (8, 9, 10)),
    corner=st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 3)),
    size=st.tuples(st.integers(2, 5), st.integers(2, 6), st.integers(2, 7)),
    scale=st.sampled_from([5.0, 20.0, 200.0]),
)
def test_masked_targets_do_not_depend_on_the_outside(full, corner, size, scale):
    """Where the weight is non-zero, the target of a crop equals the target computed with the
    context around it (whatever that context is) exactly, or both are saturated with the same
    sign within 1 - saturation."""
    crop = tuple(slice(c, c + s) for c, s in zip(corner, size))
    p = DistancePredictor(["a"], scale_factor=scale, mask_distances=True)
    t_full = p.create_target(full[None].astype(np.uint8), VS)[0][crop]
    gt = full[crop][None].astype(np.uint8)
    t_crop = p.create_target(gt, VS)[0]
    w = p.create_weight(gt, p.create_target(gt, VS), None, VS)[0]
    kept = w > 0
    exact = np.isclose(t_crop, t_full, atol=1e-5)
    saturated = (np.abs(t_full) >= p.saturation - 1e-6) & (np.sign(t_full) == np.sign(t_crop))
    assert (exact | saturated)[kept].all()
    p.saturation = 2.0  # only exact targets
    w_exact = p.create_weight(gt, p.create_target(gt, VS), None, VS)[0]
    assert np.isclose(t_crop, t_full, atol=1e-5)[w_exact > 0].all()


@settings(max_examples=25, deadline=None)
@given(
    gt=hnp.arrays(np.bool_, (5, 6, 7)),
    unknown=hnp.arrays(np.bool_, (5, 6, 7)),
    fill=hnp.arrays(np.bool_, (5, 6, 7)),
)
def test_masked_targets_do_not_depend_on_unannotated_labels(gt, unknown, fill):
    p = DistancePredictor(["a"], scale_factor=15.0, mask_distances=True)
    p.saturation = 2.0
    mask = (~unknown).astype(np.uint8)
    other = np.where(unknown, fill, gt)  # same annotated labels, different unannotated ones
    for labels in (gt, other):
        t = p.create_target(labels[None].astype(np.uint8), VS)
        w = p.create_weight(labels[None].astype(np.uint8), t, mask, VS)[0]
        t_other = p.create_target(np.where(unknown, ~labels, labels)[None].astype(np.uint8), VS)
        assert np.isclose(t[0], t_other[0], atol=1e-5)[w > 0].all()
        assert (w[unknown] == 0).all()


def test_brute_force_random_small():
    rng = np.random.default_rng(1)
    for shape, vs in itertools.product([(3, 4, 5), (6, 2, 3)], [(1, 1, 1), (40, 8, 4)]):
        fg = rng.random(shape) > 0.6
        d = DistancePredictor(["a"]).signed_distances(fg[None].astype(np.uint8), vs)[0]
        np.testing.assert_allclose(d, brute_signed_distance(fg, vs), rtol=1e-5)


def test_create_model_head():
    model_module = pytest.importorskip("dacapo.experiments.model")
    import torch

    from dacapo.experiments.architectures.dummy_architecture import DummyArchitecture
    from dacapo.experiments.architectures.dummy_architecture_config import (
        DummyArchitectureConfig,
    )

    arch = DummyArchitecture(DummyArchitectureConfig("d", num_in_channels=1, num_out_channels=5))
    p = DistancePredictor(["a", "b"], scale_factor=10.0)
    model = p.create_model(arch)
    assert isinstance(model, model_module.Model)
    heads = [m for m in model.modules() if isinstance(m, torch.nn.Conv3d) and m is not arch.conv]
    assert len(heads) == 1
    head = heads[0]
    assert head.in_channels == 5 and head.out_channels == 2 and head.kernel_size == (1, 1, 1)
    model.eval()
    with torch.no_grad():
        out = model(torch.zeros(1, 1, 6, 6, 6))
    assert out.shape == (1, 2, 4, 4, 4)


def test_create_model_head_2d():
    pytest.importorskip("dacapo.experiments.model")
    import torch
    from funlib.geometry import Coordinate

    from dacapo.experiments.architectures.architecture import Architecture

    class Tiny2D(Architecture):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(1, 3, kernel_size=3)

        input_shape = Coordinate(8, 8)
        num_in_channels = 1
        num_out_channels = 3

        def forward(self, x):
            return self.conv(x)

    model = DistancePredictor(["a"], scale_factor=10.0).create_model(Tiny2D())
    assert isinstance(model.prediction_head, torch.nn.Conv2d)
    assert model.prediction_head.in_channels == 3 and model.prediction_head.out_channels == 1
    assert model.eval_activation is None
    assert model.num_out_channels == 1 and tuple(model.output_shape) == (6, 6)
