"""The gunpowder trainer's pipeline on small in-memory arrays with stand-in model and predictor."""

from __future__ import annotations

import math
import multiprocessing
import os

import numpy as np
import pytest
from funlib.geometry import Coordinate, Roi

from dacapo.experiments.trainers import GunpowderTrainer, GunpowderTrainerConfig
from dacapo.experiments.trainers.gp_augments import (
    ElasticAugmentConfig,
    GammaAugmentConfig,
    IntensityAugmentConfig,
    IntensityScaleShiftAugmentConfig,
    NoiseAugmentConfig,
    SimpleAugmentConfig,
)

from trainer_standins import Model, PaddedPredictor, Predictor, array, dataset, task

RNG = np.random.default_rng(0)


def config(**kwargs):
    kwargs.setdefault("name", "test")
    kwargs.setdefault("batch_size", 2)
    kwargs.setdefault("learning_rate", 1e-3)
    kwargs.setdefault("num_data_fetchers", 0)
    kwargs.setdefault("min_masked", 0.0)
    return GunpowderTrainerConfig(**kwargs)


def blobs_dataset(name="ds", raw_value=None, weight=1, mask=None, gt_offset=(32, 32, 32)):
    raw_data = (
        RNG.random((40, 40, 40)).astype(np.float32)
        if raw_value is None
        else np.full((40, 40, 40), raw_value, np.float32)
    )
    raw = array(raw_data, (4, 4, 4))
    gt = array((RNG.random((24, 24, 24)) > 0.5).astype(np.uint8), (4, 4, 4), offset=gt_offset)
    return dataset(raw, gt, mask=mask, weight=weight, name=name)


def batches(trainer, n, start=0):
    with trainer:
        return [trainer.next_batch(i) for i in range(start, start + n)]


def test_shapes_dtypes_and_targets_from_predictor():
    trainer = GunpowderTrainer(config(batch_size=3))
    predictor = Predictor()
    trainer.build_batch_provider([blobs_dataset()], Model((16,) * 3, (8,) * 3), task(predictor), seed=0)
    batch = batches(trainer, 1)[0]
    assert set(batch) == {"raw", "gt", "target", "weight", "mask"}
    assert batch["raw"].shape == (3, 1, 16, 16, 16) and batch["raw"].dtype == np.float32
    assert batch["gt"].shape == (3, 8, 8, 8) and batch["gt"].dtype == np.uint8
    assert batch["target"].shape == (3, 1, 8, 8, 8) and batch["target"].dtype == np.float32
    assert batch["weight"].shape == (3, 1, 8, 8, 8) and batch["weight"].dtype == np.float32
    assert batch["mask"].shape == (3, 8, 8, 8) and batch["mask"].dtype == np.uint8
    np.testing.assert_array_equal(batch["target"][:, 0], 2.0 * (batch["gt"] > 0) - 1.0)
    np.testing.assert_array_equal(batch["weight"][:, 0], batch["mask"])
    assert predictor.calls == 3
    # the output centre always lies inside the gt
    assert trainer.input_roi == Roi((-32, -32, -32), (64, 64, 64))
    assert trainer.output_roi == Roi((-16, -16, -16), (32, 32, 32))


def test_gt_channels_and_raw_channels_are_kept():
    raw = array(RNG.random((2, 40, 40, 40)).astype(np.float32), (4, 4, 4), channels=1)
    gt = array((RNG.random((3, 24, 24, 24)) > 0.5).astype(np.uint8), (4, 4, 4), (32,) * 3, 1)

    class ChannelPredictor(Predictor):
        def create_target(self, gt, voxel_size):
            assert gt.shape == (3, 8, 8, 8)
            return (gt > 0).astype(np.float32)

    trainer = GunpowderTrainer(config(augments=[SimpleAugmentConfig()]))
    trainer.build_batch_provider(
        [dataset(raw, gt)], Model((16,) * 3, (8,) * 3, in_channels=2), task(ChannelPredictor()), 0
    )
    batch = batches(trainer, 1)[0]
    assert batch["raw"].shape == (2, 2, 16, 16, 16)
    assert batch["gt"].shape == (2, 3, 8, 8, 8)
    assert batch["target"].shape == batch["weight"].shape == (2, 3, 8, 8, 8)


def test_min_masked_is_respected():
    mask = np.zeros((24, 24, 24), np.uint8)
    mask[:6] = 1  # a quarter of the gt is annotated
    ds = blobs_dataset(mask=array(mask, (4, 4, 4), offset=(32, 32, 32)))
    fractions = {}
    for min_masked in (0.0, 0.6):
        trainer = GunpowderTrainer(config(batch_size=8, min_masked=min_masked))
        trainer.build_batch_provider([ds], Model((16,) * 3, (8,) * 3), task(), seed=3)
        got = batches(trainer, 2)
        fractions[min_masked] = [float(m.mean()) for b in got for m in b["mask"]]
        for b in got:  # weights come from the mask
            np.testing.assert_array_equal(b["weight"][:, 0], b["mask"])
    assert min(fractions[0.6]) >= 0.6
    assert min(fractions[0.0]) < 0.6  # without min_masked most locations are mostly unannotated


def test_datasets_without_a_mask_stack_with_per_class_masked_ones():
    per_class = array(np.ones((1, 24, 24, 24), np.uint8), (4, 4, 4), offset=(32, 32, 32), channels=1)
    datasets = [blobs_dataset("masked", raw_value=1.0, mask=per_class), blobs_dataset("bare", raw_value=0.0)]
    trainer = GunpowderTrainer(config(batch_size=8))
    trainer.build_batch_provider(datasets, Model((16,) * 3, (8,) * 3), task(Predictor()), seed=0)
    got = batches(trainer, 3)
    sources = {float(raw.max()) for b in got for raw in b["raw"]}  # raw 1 (masked) or 0
    assert sources == {0.0, 1.0}  # samples of both datasets were stacked together
    for b in got:
        assert b["mask"].shape == (8, 1, 8, 8, 8)


def test_impossible_min_masked_falls_back_instead_of_hanging(caplog):
    mask = np.zeros((24, 24, 24), np.uint8)
    mask[0, 0, 0] = 1
    ds = blobs_dataset(mask=array(mask, (4, 4, 4), offset=(32, 32, 32)))
    trainer = GunpowderTrainer(config(min_masked=0.9))
    trainer.build_batch_provider([ds], Model((16,) * 3, (8,) * 3), task(), seed=0)
    batch = batches(trainer, 1)[0]
    assert batch["raw"].shape == (2, 1, 16, 16, 16)
    assert "no location with at least" in caplog.text


def test_datasets_are_sampled_by_weight():
    datasets = [blobs_dataset("a", 0.25, weight=1), blobs_dataset("b", 0.75, weight=3)]
    trainer = GunpowderTrainer(config(batch_size=10, clip_raw=False))
    trainer.build_batch_provider(datasets, Model((16,) * 3, (8,) * 3), task(), seed=1)
    values = [float(r[0, 8, 8, 8]) for b in batches(trainer, 5) for r in b["raw"]]
    assert set(values) <= {0.25, 0.75}
    count_b = sum(v == 0.75 for v in values)
    assert 28 <= count_b <= 47, count_b  # expected 37.5 of 50


def test_gt_at_twice_the_raw_voxel_size_stays_aligned_under_elastic_augment():
    """raw (4 nm) and gt (8 nm) sample the same linear function of the voxel centres; after an
    elastic deformation with a uniform 3D rotation, each gt voxel must equal the mean of the
    2x2x2 raw voxels it covers (trilinear interpolation reproduces linear functions)."""

    def linear(shape, voxel, offset):
        idx = np.indices(shape, dtype=np.float64)
        centres = [offset[d] + (idx[d] + 0.5) * voxel for d in range(3)]
        return ((centres[0] + 2 * centres[1] + 3 * centres[2]) / 100.0).astype(np.float32)

    raw = array(linear((96,) * 3, 4, (-64,) * 3), (4, 4, 4), offset=(-64,) * 3)
    gt = array(linear((32,) * 3, 8, (0,) * 3), (8, 8, 8))
    points = [(128, 128, 128), (120, 136, 128), (136, 120, 132)]
    elastic = ElasticAugmentConfig([5, 5, 5], [1.0, 1.0, 1.0], (0, math.pi), subsample=4,
                                   uniform_3d_rotation=True)

    class FloatGtPredictor(Predictor):
        def create_target(self, gt, voxel_size):
            return gt[np.newaxis].astype(np.float32)

    trainer = GunpowderTrainer(config(batch_size=4, augments=[elastic], clip_raw=False))
    model = Model((24,) * 3, (8,) * 3, factor=2)
    trainer.build_batch_provider(
        [dataset(raw, gt, sample_points=points)], model, task(FloatGtPredictor()), seed=5
    )
    assert trainer.output_voxel_size == Coordinate(8, 8, 8)
    batch = batches(trainer, 1)[0]
    assert batch["gt"].shape == (4, 8, 8, 8) and batch["raw"].shape == (4, 1, 24, 24, 24)
    for raw_out, gt_out in zip(batch["raw"][:, 0], batch["gt"]):
        inner = raw_out[4:-4, 4:-4, 4:-4]  # the raw voxels under the output ROI
        pooled = inner.reshape(8, 2, 8, 2, 8, 2).mean(axis=(1, 3, 5))
        slope = 6 * 4 / 100.0  # one raw voxel of misalignment changes f by up to this
        assert np.abs(pooled - gt_out).max() < 0.25 * slope
        # and the sample was actually transformed (not just shifted)
        undeformed = linear((16,) * 3, 4, (0,) * 3)
        diffs = (inner - undeformed).ravel()
        assert np.ptp(diffs) > 1.0
    np.testing.assert_array_equal(batch["target"][:, 0], batch["gt"])


def test_sample_points_centre_the_output():
    idx = np.indices((40, 40, 40))
    raw = array((idx[0] * 10000 + idx[1] * 100 + idx[2]).astype(np.float32), (4, 4, 4))
    gt = array(np.ones((40, 40, 40), np.uint8), (4, 4, 4))
    points = [(40, 80, 120), (100, 20, 60)]
    trainer = GunpowderTrainer(config(batch_size=8))
    trainer.build_batch_provider([dataset(raw, gt, sample_points=points)], Model((16,) * 3, (8,) * 3), task(), 0)
    for b in batches(trainer, 1):
        for r in b["raw"][:, 0]:
            value = int(r[8, 8, 8])  # voxel whose corner is the output centre
            centre = (value // 10000 * 4, value // 100 % 100 * 4, value % 100 * 4)
            assert tuple(centre) in {tuple(p) for p in points}


def test_clip_raw_crops_raw_to_gt_plus_context():
    raw = array(np.ones((64, 64, 64), np.float32), (4, 4, 4), offset=(-64,) * 3)
    gt = array(np.ones((4, 4, 4), np.uint8), (4, 4, 4), offset=(48,) * 3)
    found = {}
    for clip in (True, False):
        trainer = GunpowderTrainer(config(batch_size=8, clip_raw=clip))
        trainer.build_batch_provider([dataset(raw, gt)], Model((24,) * 3, (8,) * 3), task(), 1)
        got = batches(trainer, 2)
        found[clip] = np.concatenate([b["raw"] for b in got])
    assert found[False].min() == 1.0
    assert found[True].min() == 0.0  # raw beyond gt + context (8 voxels) is not used
    # every voxel within the context of the gt is raw data
    assert (found[True][:, 0, 8:16, 8:16, 8:16] == 1).all()


def test_predictor_padding_gives_it_more_gt():
    trainer = GunpowderTrainer(config())
    predictor = PaddedPredictor(pad=8)  # 2 voxels per side
    trainer.build_batch_provider([blobs_dataset()], Model((16,) * 3, (8,) * 3), task(predictor), 0)
    batch = batches(trainer, 1)[0]
    assert batch["target"].shape == (2, 1, 8, 8, 8) and batch["gt"].shape == (2, 8, 8, 8)
    assert (batch["target"] == 12).all()  # the predictor saw 8 + 2 * 2 voxels


def test_deterministic_without_workers():
    augments = [
        ElasticAugmentConfig([4, 4, 4], [1.0, 1.0, 1.0], (0, math.pi / 2), subsample=2),
        IntensityAugmentConfig((0.8, 1.2), (-0.1, 0.1)),
        GammaAugmentConfig((0.7, 1.4)),
        NoiseAugmentConfig(var=0.001),
        SimpleAugmentConfig(),
        IntensityScaleShiftAugmentConfig(2.0, -1.0),
    ]
    datasets = [blobs_dataset("a"), blobs_dataset("b", weight=2)]

    def run(seed, iterations):
        trainer = GunpowderTrainer(config(augments=augments))
        trainer.build_batch_provider(datasets, Model((16,) * 3, (8,) * 3), task(), seed=seed)
        with trainer:
            return [trainer.next_batch(i) for i in iterations]

    state = np.random.get_state()
    first = run(7, [3, 4])
    assert np.array_equal(state[1], np.random.get_state()[1])  # caller's RNG untouched
    again = run(7, [4, 3])
    for key in first[0]:
        np.testing.assert_array_equal(first[0][key], again[1][key])
        np.testing.assert_array_equal(first[1][key], again[0][key])
    assert not np.array_equal(first[0]["raw"], first[1]["raw"])
    other = run(8, [3])
    assert not np.array_equal(first[0]["raw"], other[0]["raw"])


def _children():
    return {p.pid for p in multiprocessing.active_children()}


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is not alive
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("fetchers", [1, 2])
def test_data_fetchers_work_and_shut_down(fetchers):
    before = _children()
    augments = [ElasticAugmentConfig([4, 4, 4], [1.0, 1.0, 1.0], (0, 1.0), subsample=2)]
    datasets = [blobs_dataset()]
    trainer = GunpowderTrainer(config(num_data_fetchers=fetchers, augments=augments))
    trainer.build_batch_provider(datasets, Model((16,) * 3, (8,) * 3), task(), seed=2)
    with trainer:
        got = [trainer.next_batch(i) for i in range(3)]
        workers = _children() - before
        assert len(workers) == min(fetchers, len(os.sched_getaffinity(0)))
        # workers yield the CPU to the model's lock-stepped threads
        assert all(os.getpriority(os.PRIO_PROCESS, pid) == 19 for pid in workers)
    for batch in got:
        assert batch["raw"].shape == (2, 1, 16, 16, 16)
        np.testing.assert_array_equal(batch["target"][:, 0], 2.0 * (batch["gt"] > 0) - 1.0)
    assert _children() - before == set()
    assert not any(_alive(pid) for pid in workers)
    if fetchers == 1:  # a single worker delivers a reproducible sequence
        trainer = GunpowderTrainer(config(num_data_fetchers=1, augments=augments))
        trainer.build_batch_provider(datasets, Model((16,) * 3, (8,) * 3), task(), seed=2)
        with trainer:
            again = [trainer.next_batch(i) for i in range(2)]
        for a, b in zip(got, again):
            np.testing.assert_array_equal(a["raw"], b["raw"])


@pytest.mark.timeout(120)
def test_stopping_with_large_samples_in_flight_does_not_hang():
    """Samples larger than a pipe buffer (~1.7 MB here) may be half-written when the workers
    stop; shutting down must neither read them nor wait for them."""
    before = _children()
    datasets = [blobs_dataset()]
    for _ in range(3):
        trainer = GunpowderTrainer(config(num_data_fetchers=2, batch_size=1))
        trainer.build_batch_provider(datasets, Model((76,) * 3, (8,) * 3), task(), seed=0)
        with trainer:
            batch = trainer.next_batch(0)
        assert batch["raw"].shape == (1, 1, 76, 76, 76)
    assert _children() - before == set()


def test_worker_errors_reach_the_training_process():
    class Broken(Predictor):
        def create_target(self, gt, voxel_size):
            raise ValueError("no target today")

    before = _children()
    trainer = GunpowderTrainer(config(num_data_fetchers=1))
    trainer.build_batch_provider([blobs_dataset()], Model((16,) * 3, (8,) * 3), task(Broken()), 0)
    with pytest.raises(Exception, match="no target today"):
        with trainer:
            trainer.next_batch(0)
    assert _children() - before == set()


def test_snapshot_has_data_and_metadata(tmp_path):
    import torch
    from funlib.persistence import open_ds

    trainer = GunpowderTrainer(config())
    trainer.build_batch_provider([blobs_dataset()], Model((16,) * 3, (8,) * 3, factor=1), task(), 0)
    batch = batches(trainer, 1)[0]
    prediction = torch.from_numpy(batch["target"] * 0.5)
    group = trainer.write_snapshot(tmp_path / "snapshot.zarr", 100, batch, prediction)
    assert group == tmp_path / "snapshot.zarr" / "100"
    for key in ("raw", "gt", "target", "weight", "mask", "prediction"):
        ds = open_ds(str(group / key), mode="r")
        expected = prediction.numpy() if key == "prediction" else batch[key]
        np.testing.assert_array_equal(ds[ds.roi], expected)
        assert ds.voxel_size == Coordinate(4, 4, 4)
        assert ds.offset == (trainer.input_roi if key == "raw" else trainer.output_roi).offset
        assert ds.axis_names[-3:] == ["z", "y", "x"] and ds.axis_names[0] == "b^"
        assert ds.units == ["nm"] * 3
    assert open_ds(str(group / "raw"), mode="r").axis_names == ["b^", "c^", "z", "y", "x"]
    assert open_ds(str(group / "gt"), mode="r").axis_names == ["b^", "z", "y", "x"]


def test_two_dimensional_pipeline():
    raw = array(RNG.random((64, 64)).astype(np.float32), (4, 4))
    gt = array((RNG.random((40, 40)) > 0.5).astype(np.uint8), (4, 4), offset=(48, 48))
    augments = [
        ElasticAugmentConfig([8, 8], [1.0, 1.0], (0, math.pi)),
        SimpleAugmentConfig(),
        IntensityAugmentConfig((0.9, 1.1), (-0.1, 0.1)),
    ]
    trainer = GunpowderTrainer(config(augments=augments))
    trainer.build_batch_provider([dataset(raw, gt)], Model((24, 24), (12, 12)), task(), 0)
    batch = batches(trainer, 1)[0]
    assert batch["raw"].shape == (2, 1, 24, 24) and batch["target"].shape == (2, 1, 12, 12)


def test_build_errors_are_clear():
    trainer = GunpowderTrainer(config())
    with pytest.raises(ValueError, match="gt voxel size"):
        trainer.build_batch_provider([blobs_dataset()], Model((16,) * 3, (8,) * 3, factor=2), task())
    with pytest.raises(TypeError, match="seed"):
        trainer.build_batch_provider([blobs_dataset()], Model((16,) * 3, (8,) * 3), task(), "/tmp/x")
    with pytest.raises(ValueError, match="input channel"):
        trainer.build_batch_provider([blobs_dataset()], Model((16,) * 3, (8,) * 3, in_channels=3), task())
    with pytest.raises(RuntimeError, match="build_batch_provider"):
        with GunpowderTrainer(config()):
            pass
    trainer.build_batch_provider([blobs_dataset()], Model((16,) * 3, (8,) * 3), task())
    with pytest.raises(RuntimeError, match="with trainer"):
        trainer.next_batch(0)


def test_optimizer_and_warm_up():
    import torch

    model = torch.nn.Linear(2, 1)
    trainer = GunpowderTrainer(config(learning_rate=0.1, warmup_iterations=10))
    optimizer = trainer.create_optimizer(model)
    assert isinstance(optimizer, torch.optim.RAdam)
    scheduler = trainer.create_scheduler(optimizer)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.001)
    for _ in range(10):
        optimizer.step()
        scheduler.step()
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.1)
    scheduler.step()
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.1)

    trainer = GunpowderTrainer(config(learning_rate=0.1, warmup_iterations=0, optimizer="AdamW",
                                      weight_decay=0.01))
    optimizer = trainer.create_optimizer(model)
    assert isinstance(optimizer, torch.optim.AdamW)
    trainer.create_scheduler(optimizer)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.1)
