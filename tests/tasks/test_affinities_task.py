"""Affinities task: targets, weights, LSDs, loss, mutex watershed and instance metrics."""

import numpy as np
import pytest
import torch

from dacapo.config import ConfigError
from dacapo.experiments.tasks import AffinitiesTaskConfig
from dacapo.experiments.tasks._affinities import grow_boundary
from dacapo.experiments.tasks._lsds import local_shape_descriptors
from dacapo.experiments.tasks.evaluators import InstanceEvaluator, instance_scores
from dacapo.experiments.tasks.losses import AffinitiesLoss

NBH = [(1, 0), (0, 1)]


def task(**kwargs):
    config = AffinitiesTaskConfig(name="affs", neighborhood=kwargs.pop("neighborhood", NBH), **kwargs)
    return config.task_type(config)


def test_config():
    config = AffinitiesTaskConfig(name="a", neighborhood=[[1, 0, 0], (0, 1, 0)])
    assert config.neighborhood == [(1, 0, 0), (0, 1, 0)]
    for bad in ([], [(0, 0)], [(1, 0), (1, 0, 0)], "x"):
        with pytest.raises(ConfigError, match="neighborhood="):
            AffinitiesTaskConfig(name="a", neighborhood=bad)
    with pytest.raises(ConfigError, match="affs_weight_clipmin="):
        AffinitiesTaskConfig(name="a", neighborhood=NBH, affs_weight_clipmin=0.9,
                             affs_weight_clipmax=0.5)
    assert task(lsds=True).predictor.channels == ["aff_1_0", "aff_0_1"] + [
        f"lsd_{i}" for i in range(6)
    ]
    assert task(neighborhood=[(1, 0, 0)], lsds=True).predictor.num_channels == 1 + 10


def test_targets_and_balanced_weights():
    labels = np.array([[1, 1, 2], [1, 0, 2]], dtype=np.uint64)
    t = task()
    target = t.predictor.create_target(labels, (4, 4))
    # aff along axis 0: (0,0)-(1,0) both 1 -> 1; (0,1)-(1,1): 1 vs 0 -> 0; (0,2)-(1,2): 2 -> 1
    assert target[0].tolist() == [[1, 0, 1], [0, 0, 0]]
    # aff along axis 1: (0,0)-(0,1) 1 -> 1; (0,1)-(0,2) 1 vs 2 -> 0; (1,0)-(1,1) -> 0
    assert target[1].tolist() == [[1, 0, 0], [0, 0, 0]]
    weight = t.predictor.create_weight(labels, target, None, (4, 4))
    # axis 0: 3 known edges (last row unknown), 2 ones: f1 = 2/3 -> 0.75, f0 = 1/3 -> 1.5
    assert weight[0].tolist() == [[0.75, 1.5, 0.75], [0, 0, 0]]
    # mask out the voxel (0, 2): its edges weigh 0
    mask = np.ones_like(labels, dtype=np.uint8)
    mask[0, 2] = 0
    masked = t.predictor.create_weight(labels, target, mask, (4, 4))
    assert masked[0, 0, 2] == 0 and masked[1, 0, 1] == 0 and masked[0, 0, 0] > 0
    both = task(background_as_object=True).predictor.create_target(labels, (4, 4))
    assert both[1, 1].tolist() == [0, 0, 0] and both[0, 0, 1] == 0


def test_grow_boundary():
    labels = np.array([[1, 1, 1, 2, 2, 2, 0]])
    assert grow_boundary(labels, 1).tolist() == [[1, 1, 0, 0, 2, 2, 0]]
    assert grow_boundary(labels, 2).tolist() == [[1, 0, 0, 0, 0, 2, 0]]


def test_lsds_of_a_square():
    labels = np.zeros((21, 21), dtype=np.uint32)
    labels[5:16, 5:16] = 1
    lsds = local_shape_descriptors(labels, sigma=3.0)
    assert lsds.shape == (6, 21, 21) and lsds.min() >= 0 and lsds.max() <= 1
    assert np.all(lsds[:, labels == 0] == 0)
    # at the centre: zero mean offset (0.5), symmetric variances, no correlation (0.5)
    assert lsds[0, 10, 10] == pytest.approx(0.5) and lsds[1, 10, 10] == pytest.approx(0.5)
    assert lsds[2, 10, 10] == pytest.approx(lsds[3, 10, 10]) and lsds[4, 10, 10] == pytest.approx(0.5)
    # near the top edge the mean lies below (towards larger row index): offset > 0.5
    assert lsds[0, 5, 10] > 0.55
    assert lsds[5, 10, 10] > lsds[5, 5, 5]  # more mass inside than at a corner
    coarse = local_shape_descriptors(labels, sigma=3.0, downsample=2)
    assert coarse.shape == lsds.shape


def test_loss_values():
    prediction = torch.zeros(1, 3, 2, 2)
    target = torch.ones(1, 3, 2, 2)
    weight = torch.ones(1, 3, 2, 2)
    weight[:, 2] = 0
    loss = AffinitiesLoss(num_affinities=2).compute(prediction, target, weight)
    assert loss.item() == pytest.approx(np.log(2))
    weight[:, 2] = 1
    loss = AffinitiesLoss(num_affinities=2).compute(prediction, target, weight)
    assert loss.item() == pytest.approx(2 * np.log(2))


def test_mutex_watershed_recovers_instances_and_bias_sweep():
    labels = np.zeros((12, 12), dtype=np.uint64)
    labels[1:6, 1:11] = 1
    labels[6:11, 1:11] = 2  # touching object 1
    t = task(neighborhood=[(1, 0), (0, 1), (3, 0), (0, 3)], background=True)
    affs = t.predictor.create_target(labels, (1, 1))
    params = t.parameters
    assert [p.bias for p in params] == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    seg = t.post_processor.process(params[4], affs)
    assert seg.shape == labels.shape
    assert np.all((seg == 0) == (labels == 0))
    assert len(np.unique(seg[labels == 1])) == 1 and len(np.unique(seg[labels == 2])) == 1
    assert seg[2, 2] != seg[8, 8]
    scores = t.evaluator.evaluate(seg, labels, voxel_size=(1, 1))
    assert scores.voi == pytest.approx(0, abs=1e-9) and scores.adapted_rand_error == pytest.approx(0)


def test_instance_scores_hand_computed():
    gt = np.array([1, 1, 2, 2])
    merged = np.array([5, 5, 5, 5])
    s = instance_scores(merged, gt)
    assert s.voi_merge == pytest.approx(1.0) and s.voi_split == pytest.approx(0.0)
    split = np.array([1, 2, 3, 4])
    s = instance_scores(split, gt)
    assert s.voi_split == pytest.approx(1.0) and s.voi_merge == pytest.approx(0.0)
    assert s.adapted_rand_error > 0
    evaluator = InstanceEvaluator()
    assert evaluator.criteria[0] == "voi"
    assert not evaluator.higher_is_better("voi") and not evaluator.higher_is_better("adapted_rand_error")
    assert evaluator.higher_is_better("adapted_rand_precision")


def test_dense_labels_give_every_voxel_a_segment_whatever_the_bias():
    """Without background (the default), boundary voxels (no affinity above the bias) join the
    nearest fragment instead of becoming one background object; the training targets do not
    depend on the choice."""
    from scipy import ndimage

    rng = np.random.default_rng(0)
    labels = np.zeros((24, 24), dtype=np.uint64)
    labels[:, :12], labels[:, 12:] = 1, 2
    labels[12:, :12] = 3
    membrane = np.zeros(labels.shape, dtype=bool)
    membrane[:, 11:13] = True
    membrane[11:13, :12] = True
    gt = np.where(membrane, 0, labels)  # membranes are 0 in the gt, as in ISBI 2012
    dense, sparse = task(), task(background=True)
    affs = dense.predictor.create_target(gt, (1, 1)).astype(np.float64)
    assert np.array_equal(affs, sparse.predictor.create_target(gt, (1, 1)))
    affs = np.clip(affs + rng.normal(0, 0.05, affs.shape), 0, 1)
    for params in dense.parameters[2:7]:  # biases 0.3 .. 0.7
        seg = dense.post_processor.process(params, affs)
        assert seg.min() > 0 and len(np.unique(seg)) == 3
        # every object keeps its interior, boundary voxels go to a touching object
        for label in (1, 2, 3):
            interior = ndimage.binary_erosion(gt == label, iterations=2)
            assert len(np.unique(seg[interior])) == 1
        with_background = sparse.post_processor.process(params, affs)
        assert np.array_equal(with_background == 0, gt == 0)


@pytest.mark.parametrize("reach", [9, 15])
def test_long_range_offsets_on_small_blocks(reach):
    """Offsets longer than the array (a block at the volume's edge) have no edges in it: no
    mwatershed panic; the declared context covers twice the longest offset."""
    t = task(neighborhood=[(1, 0, 0), (0, 1, 0), (0, 0, 1), (reach, 0, 0), (0, reach, 0)])
    pp = t.post_processor
    assert pp.produces_instances and pp.output_dtype == np.uint64
    assert pp.output_channels(5) is None
    assert pp.context(3) == (2 * reach, 2 * reach, 8)
    for shape in [(6, 6, 6), (4, 30, 2)]:
        seg = pp.process(t.parameters[0], np.zeros((5,) + shape))
        assert seg.shape == shape


def test_sweeps_are_config_fields():
    from dacapo.experiments.tasks import DistanceTaskConfig, InnerDistanceTaskConfig
    from dacapo.store.converter import converter

    config = AffinitiesTaskConfig(name="a", neighborhood=NBH, biases=[0.05, 0.95], background=True)
    assert [p.bias for p in config.task_type(config).parameters] == [0.05, 0.95]
    stored = converter.unstructure(config)
    assert converter.structure(stored, type(config)) == config
    old = {k: v for k, v in stored.items() if k not in ("biases", "background")}
    loaded = converter.structure(old, type(config))
    assert loaded.biases == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9] and not loaded.background
    for bad in ([], [0.5, 0.5], "0.5", [float("nan")]):
        with pytest.raises(ConfigError, match="biases="):
            AffinitiesTaskConfig(name="a", neighborhood=NBH, biases=bad)
    distance = DistanceTaskConfig(name="d", channels=["c"], clip_distance=40, tol_distance=40,
                                  thresholds=[-0.25, 0, 0.25])
    assert [p.threshold for p in distance.task_type(distance).parameters] == [-0.25, 0, 0.25]
    inner = InnerDistanceTaskConfig(name="i", channels=["c"], clip_distance=40, tol_distance=40,
                                    thresholds=[0.3])
    assert [p.threshold for p in inner.task_type(inner).parameters] == [0.3]


@pytest.mark.parametrize("shape", [(40, 44), (16, 20, 18)], ids=["2d", "3d"])
@pytest.mark.parametrize("downsample", [1, 2])
def test_lsds_match_the_lsds_package(shape, downsample):
    """Same labels, same sigma (voxels): every channel equals ``lsd.train``'s to float32
    precision (its float32 global coordinates cost it ~1e-5)."""
    lsd = pytest.importorskip("lsd.train.local_shape_descriptor")
    from dacapo.utils.synthetic import make_cells

    _, labels = make_cells(shape, seed=0, num_objects=6)
    labels[(slice(0, 3),) * len(shape)] = 0  # some background
    theirs = lsd.get_local_shape_descriptors(
        labels, (4.0,) * len(shape), voxel_size=(1,) * len(shape), downsample=downsample
    )
    ours = local_shape_descriptors(labels, 4.0, downsample)
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-4)
