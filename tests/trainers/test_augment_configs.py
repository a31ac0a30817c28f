"""Augment and trainer configs: the tutorial's exact arguments, validation, converter round trip,
and the gunpowder nodes they build."""

from __future__ import annotations

import math

import pytest
import yaml

from dacapo.config import ConfigError
from dacapo.experiments.trainers import GunpowderTrainerConfig, TrainerConfig
from dacapo.experiments.trainers.gp_augments import (
    AugmentConfig,
    ElasticAugmentConfig,
    GammaAugmentConfig,
    IntensityAugmentConfig,
    IntensityScaleShiftAugmentConfig,
    NoiseAugmentConfig,
    SimpleAugmentConfig,
)
from dacapo.store.converter import structure, unstructure


def tutorial_trainer_config():
    # verbatim from the tutorial (seed 000)
    return GunpowderTrainerConfig(
        name="example_default_one_label_finetuning",
        batch_size=2,
        learning_rate=1e-05,
        num_data_fetchers=20,
        augments=[
            ElasticAugmentConfig(
                control_point_spacing=[100, 100, 100],
                control_point_displacement_sigma=[10.0, 10.0, 10.0],
                rotation_interval=(0.0, 1.5707963267948966),
                subsample=8,
                uniform_3d_rotation=True,
            ),
            IntensityAugmentConfig(scale=(0.5, 1.5), shift=(-0.2, 0.2), clip=True),
            GammaAugmentConfig(gamma_range=(0.5, 1.5)),
            IntensityScaleShiftAugmentConfig(scale=2.0, shift=-1.0),
        ],
        snapshot_interval=10000,
        min_masked=0.05,
        clip_raw=False,
    )


def all_augments():
    return [
        ElasticAugmentConfig([40, 40], [2, 2.5], (0, math.pi), subsample=2,
                             augmentation_probability=0.5),
        GammaAugmentConfig((0.8, 1.25)),
        IntensityAugmentConfig((0.9, 1.1), (-0.1, 0.1), clip=False),
        IntensityScaleShiftAugmentConfig(2, -1),
        NoiseAugmentConfig(),
        NoiseAugmentConfig(mode="s&p", clip=False, amount=0.1, salt_vs_pepper=0.3),
        SimpleAugmentConfig(),
        SimpleAugmentConfig(mirror_only=(1, 2), transpose_only=[1, 2], mirror_probs=(0.1, 0.2, 0.3),
                            transpose_probs=[0.5, 0.5, 0.5]),
    ]


def test_tutorial_config_constructs():
    config = tutorial_trainer_config()
    assert isinstance(config, TrainerConfig)
    assert config.batch_size == 2 and config.learning_rate == 1e-05
    assert config.num_data_fetchers == 20 and config.min_masked == 0.05 and not config.clip_raw
    elastic = config.augments[0]
    assert tuple(elastic.control_point_spacing) == (100, 100, 100)
    assert elastic.control_point_displacement_sigma == (10.0, 10.0, 10.0)
    assert elastic.rotation_interval == (0.0, math.pi / 2)
    assert elastic.subsample == 8 and elastic.uniform_3d_rotation
    assert elastic.augmentation_probability == 1.0
    # defaults of the original
    default = GunpowderTrainerConfig(name="t", batch_size=1, learning_rate=1e-4)
    assert default.num_data_fetchers == 5 and default.augments == []
    assert default.snapshot_interval is None and default.min_masked == 0.15 and default.clip_raw
    assert default.optimizer == "RAdam" and default.warmup_iterations == 1000
    assert GunpowderTrainerConfig("t", 2, 1e-3).batch_size == 2  # positional order


def test_trainer_type_and_verify():
    from dacapo.experiments.trainers import GunpowderTrainer, Trainer

    config = tutorial_trainer_config()
    assert config.trainer_type is GunpowderTrainer
    assert issubclass(GunpowderTrainer, Trainer)
    assert config.verify()[0]


@pytest.mark.parametrize("config", [tutorial_trainer_config()] + all_augments(), ids=lambda c: type(c).__name__)
def test_round_trip(config):
    data = unstructure(config)
    assert structure(data) == config
    assert structure(yaml.safe_load(yaml.safe_dump(data))) == config


def test_round_trip_trainer_with_every_augment():
    config = GunpowderTrainerConfig(
        name="all", batch_size=3, learning_rate=0.5, num_data_fetchers=0, augments=all_augments(),
        snapshot_interval=7, min_masked=None, clip_raw=True, optimizer="AdamW", weight_decay=0.01,
        warmup_iterations=0, warmup_start_factor=1.0,
    )
    assert structure(yaml.safe_load(yaml.safe_dump(unstructure(config)))) == config
    assert isinstance(config.augments, list)
    assert GunpowderTrainerConfig("t", augments=tuple(all_augments())).augments == all_augments()


@pytest.mark.parametrize(
    "make",
    [
        lambda: GunpowderTrainerConfig(name="t", batch_size=0),
        lambda: GunpowderTrainerConfig(name="t", learning_rate=0),
        lambda: GunpowderTrainerConfig(name="t", num_data_fetchers=-1),
        lambda: GunpowderTrainerConfig(name="t", min_masked=1.5),
        lambda: GunpowderTrainerConfig(name="t", snapshot_interval=0),
        lambda: GunpowderTrainerConfig(name="t", optimizer="Adagrad"),
        lambda: GunpowderTrainerConfig(name="t", warmup_start_factor=0),
        lambda: ElasticAugmentConfig([10, 10, 10], [1.0, 1.0], (0, 1)),
        lambda: ElasticAugmentConfig([10, 10], [1.0, 1.0], (1, 0)),
        lambda: ElasticAugmentConfig([10, 0], [1.0, 1.0], (0, 1)),
        lambda: ElasticAugmentConfig([10, 10], [1.0, 1.0], (0, 1), augmentation_probability=2),
        lambda: ElasticAugmentConfig([10.5, 10], [1.0, 1.0], (0, 1)),
        lambda: GammaAugmentConfig((0, 1)),
        lambda: GammaAugmentConfig((2, 1)),
        lambda: GammaAugmentConfig((1, 2, 3)),
        lambda: IntensityAugmentConfig((1.1, 0.9), (0, 0)),
        lambda: IntensityScaleShiftAugmentConfig("2", 0),
        lambda: NoiseAugmentConfig(mode="blue"),
        lambda: NoiseAugmentConfig(amount=2),
        lambda: SimpleAugmentConfig(mirror_probs=[1.5]),
        lambda: SimpleAugmentConfig(mirror_only=[-1]),
    ],
)
def test_invalid_values_raise_config_error(make):
    with pytest.raises(ConfigError):
        make()


def test_structure_errors_are_config_errors():
    data = unstructure(GammaAugmentConfig((0.5, 1.5)))
    data["gamma_range"] = "wide"
    with pytest.raises(ConfigError):
        structure(data, AugmentConfig)
    data = unstructure(tutorial_trainer_config())
    data["augments"][0]["__type__"] = "NoSuchAugment"
    with pytest.raises(ConfigError):
        structure(data)


def test_nodes_are_batch_filters():
    import gunpowder as gp

    raw, gt, mask = gp.ArrayKey("RAW"), gp.ArrayKey("GT"), gp.ArrayKey("MASK")
    for config in all_augments() + tutorial_trainer_config().augments:
        node = config.node(raw, gt, mask)
        assert isinstance(node, gp.BatchFilter), type(config).__name__
