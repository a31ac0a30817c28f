"""Every task learns what it claims, on generated cells whose answer is known: its own validation
criterion improves over iteration 0. The one-hot task trains a tiny 3D UNet; the others a tiny 2D
UNet on touching 2D cells with dark membranes (cheap enough for 2 CPU cores). The affinities
run must segment the cells better than trivial segmentations, and a pretrained task loading its
weights must score as it did. A run started from another run's best checkpoint begins with that
run's validation score."""

from __future__ import annotations

import attrs
import numpy as np
import pytest
import torch

from dacapo.experiments import RunConfig, run_state
from dacapo.experiments.architectures import CNNectomeUNetConfig
from dacapo.experiments.datasplits import TrainValidateDataSplitConfig
from dacapo.experiments.datasplits.datasets import RawGTDatasetConfig
from dacapo.experiments.datasplits.datasets.arrays import (
    BinarizeArrayConfig,
    IntensitiesArrayConfig,
    ZarrArrayConfig,
)
from dacapo.experiments.run import Run
from dacapo.experiments.starts import StartConfig
from dacapo.experiments.tasks import (
    AffinitiesTaskConfig,
    HotDistanceTaskConfig,
    InnerDistanceTaskConfig,
    OneHotTaskConfig,
    PretrainedTaskConfig,
)
from dacapo.experiments.trainers import GunpowderTrainerConfig
from dacapo.experiments.trainers.gp_augments import (
    IntensityScaleShiftAugmentConfig,
    SimpleAugmentConfig,
)
from dacapo.store.create_store import (
    create_config_store,
    create_stats_store,
    create_weights_store,
)
from dacapo.train import train_run
from dacapo.utils.synthetic import write_cells
from dacapo.validate import validate_run

from .helpers import small_run_config

pytestmark = pytest.mark.slow


def _train(config):
    """Store the config, validate iteration 0 explicitly, train (validating on the way)."""
    create_config_store().store_run_config(config)
    run = Run(config)
    create_weights_store().store_weights(config.name, 0, run_state.capture(run, 0))
    validate_run(run, 0)
    train_run(run)
    return run


def _best_per_iteration(run_name, criteria, criterion, higher):
    """``{iteration: best score over the post-processing sweep}`` of the first dataset."""
    c = criteria.index(criterion)
    scores = create_stats_store().retrieve_validation_iteration_scores(run_name)
    pick = max if higher else min
    return {s.iteration: pick(p[c] for p in s.scores[0]) for s in scores}


# --- 2D touching cells ---------------------------------------------------------------------------
def _cells_dataset(container, name, instances: bool) -> RawGTDatasetConfig:
    raw = IntensitiesArrayConfig(
        name=f"{name}_raw",
        source_array_config=ZarrArrayConfig(
            name=f"{name}_raw_uint8", file_name=container, dataset="raw"
        ),
        min=0.0,
        max=255.0,
    )
    gt = ZarrArrayConfig(name=f"{name}_labels", file_name=container, dataset="labels")
    if not instances:
        gt = BinarizeArrayConfig(name=f"{name}_gt", source_array_config=gt,
                                 groupings=[("cell", [])], background=0)
    return RawGTDatasetConfig(name=name, weight=1, raw_config=raw, gt_config=gt)


def cells_2d_run_config(tmp_path, name, task_config, *, instances: bool, iterations: int,
                        validation_interval: int, seed: int = 0) -> RunConfig:
    """Touching 2D cells (8 nm voxels; about 60 in 192², 15 in the 96² validation image), a
    2-level 2D UNet with 8 feature maps, Adam at 3e-3, batches of two 60² inputs. gt: the
    instance ids (``instances``) or the binary cell mask (channel ``cell``)."""
    train = write_cells(tmp_path / "train2d.zarr", (192, 192), voxel_size=(8, 8), seed=1,
                        num_objects=60)
    val = write_cells(tmp_path / "val2d.zarr", (96, 96), voxel_size=(8, 8), seed=2,
                      num_objects=15)
    datasplit = TrainValidateDataSplitConfig(
        name="cells2d",
        train_configs=[_cells_dataset(train.container, "train", instances)],
        validate_configs=[_cells_dataset(val.container, "val", instances)],
    )
    architecture = CNNectomeUNetConfig(
        name="tiny_unet_2d", input_shape=(60, 60), fmaps_out=8, fmaps_in=1, num_fmaps=8,
        fmap_inc_factor=2, downsample_factors=[(2, 2)], eval_shape_increase=(64, 64),
    )
    trainer = GunpowderTrainerConfig(
        name="adam_trainer", batch_size=2, learning_rate=3e-3, optimizer="Adam",
        num_data_fetchers=0, augments=[
            SimpleAugmentConfig(), IntensityScaleShiftAugmentConfig(scale=2.0, shift=-1.0),
        ],
        snapshot_interval=None, min_masked=0.0, warmup_iterations=0,
    )
    return RunConfig(
        name=name, datasplit_config=datasplit, task_config=task_config,
        architecture_config=architecture, trainer_config=trainer, num_iterations=iterations,
        validation_interval=validation_interval, repetition=0, seed=seed,
    )


# --- tests ---------------------------------------------------------------------------------------
def test_one_hot_learns_and_start_resumes_score(options, tmp_path):
    base = small_run_config(tmp_path, name="onehot", iterations=40, validation_interval=20)
    config = attrs.evolve(
        base, task_config=OneHotTaskConfig(name="cells_one_hot", classes=["background", "cell"])
    )
    run = _train(config)
    evaluator = run.task.evaluator
    dice = _best_per_iteration(config.name, evaluator.criteria, "cell__dice", True)
    assert sorted(dice) == [0, 20, 40]
    assert max(dice[20], dice[40]) > dice[0] + 0.05, dice

    # a new run started from the best checkpoint scores as that checkpoint did
    weights = create_weights_store()
    criterion = evaluator.criteria[0]
    best = weights.retrieve_best(config.name, "val", criterion)
    source = _best_per_iteration(config.name, evaluator.criteria, criterion, True)[best]
    started = attrs.evolve(config, name="onehot_started", start_config=StartConfig(config.name, "best"))
    create_config_store().store_run_config(started)
    new = Run(started)
    new.initialize_from_start()
    validate_run(new, 0)
    again = _best_per_iteration(started.name, evaluator.criteria, criterion, True)[0]
    assert again == pytest.approx(source, abs=1e-6)


def _trivial_vois(run) -> dict[str, float]:
    """VOI of trivial segmentations of the validation gt, by the task's own evaluator."""
    dataset = run.datasplit.validate[0]
    gt = np.asarray(dataset.gt[dataset.gt.roi])
    voxel_size = dataset.gt.voxel_size
    trivial = {
        "all one object": np.ones_like(gt),
        "foreground one object": (gt != 0).astype(gt.dtype),
        "every voxel split": np.arange(1, gt.size + 1, dtype=np.uint64).reshape(gt.shape),
    }
    return {
        what: run.task.evaluator.evaluate(seg, gt, voxel_size=voxel_size).voi
        for what, seg in trivial.items()
    }


@pytest.mark.parametrize("lsds", [False, True], ids=["affs", "affs+lsds"])
def test_affinities_segment_touching_cells(options, tmp_path, lsds):
    # the generated cells lie in background (gt 0), which the segmentation should keep
    task = AffinitiesTaskConfig(name="affs", neighborhood=[(1, 0), (0, 1)], lsds=lsds,
                                num_lsd_voxels=5, background=True)
    config = cells_2d_run_config(tmp_path, "affs", task, instances=True, iterations=200,
                                 validation_interval=200)
    run = _train(config)
    criteria = run.task.evaluator.criteria
    voi = _best_per_iteration(config.name, criteria, "voi", False)
    assert sorted(voi) == [0, 200]
    baselines = _trivial_vois(run)
    assert min(baselines.values()) > 1.0, baselines  # the trivial answers are clearly wrong
    assert voi[200] < 0.5 * min(baselines.values()), (voi, baselines)
    assert voi[200] < 0.5 * voi[0], voi

    # a pretrained task loading the trained weights scores exactly as the run did
    weights = tmp_path / "affs.pt"
    torch.save({"model": run.model.state_dict()}, weights)
    pretrained = attrs.evolve(
        config, name="affs_pretrained",
        task_config=PretrainedTaskConfig(name="affs_pretrained", sub_task_config=task,
                                         weights=weights),
    )
    create_config_store().store_run_config(pretrained)
    validate_run(Run(pretrained), 0)
    again = create_stats_store().retrieve_validation_iteration_scores(pretrained.name)[0].scores
    trained = {
        s.iteration: s.scores
        for s in create_stats_store().retrieve_validation_iteration_scores(config.name)
    }[200]
    np.testing.assert_allclose(again, trained, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", ["inner_distance", "hot_distance"])
def test_distance_variants_learn(options, tmp_path, kind):
    if kind == "inner_distance":
        task = InnerDistanceTaskConfig(name="inner", channels=["cell"], clip_distance=40.0,
                                       tol_distance=40.0, scale_factor=40.0)
    else:
        task = HotDistanceTaskConfig(name="hot", channels=["cell"], clip_distance=40.0,
                                     tol_distance=40.0, scale_factor=40.0)
    config = cells_2d_run_config(tmp_path, kind, task, instances=kind == "inner_distance",
                                 iterations=150, validation_interval=150)
    run = _train(config)
    evaluator = run.task.evaluator
    dice = _best_per_iteration(config.name, evaluator.criteria, "cell__dice", True)
    assert sorted(dice) == [0, 150]
    # most of the image is cells: calling everything a cell already scores a dice near 0.8
    dataset = run.datasplit.validate[0]
    gt = np.asarray(dataset.gt[dataset.gt.roi])
    everything = np.ones((1,) + gt.shape[-2:], dtype=np.uint8)
    trivial = evaluator.evaluate(everything, gt, voxel_size=dataset.gt.voxel_size).cell__dice
    assert 0.5 < trivial < 0.9
    # the error 1 - dice at least halves, against iteration 0 and against the trivial answer
    assert 1 - dice[150] < 0.5 * min(1 - dice[0], 1 - trivial), (dice, trivial)
