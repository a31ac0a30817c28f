"""One-hot task: targets, weights, cross-entropy, argmax and per-class metrics on tiny arrays."""

import math

import numpy as np
import pytest
import torch

from dacapo.config import ConfigError
from dacapo.experiments.tasks import OneHotTaskConfig
from dacapo.experiments.tasks.losses import CrossEntropyLoss


def task(classes=("bg", "a", "b")):
    config = OneHotTaskConfig(name="oh", classes=list(classes))
    return config.task_type(config)


def test_config_validation():
    with pytest.raises(ConfigError, match="classes="):
        OneHotTaskConfig(name="x", classes=["only"])
    with pytest.raises(ConfigError, match="kernel_size="):
        OneHotTaskConfig(name="x", classes=["a", "b"], kernel_size=2)
    assert OneHotTaskConfig(name="x", classes=("a", "b")).classes == ["a", "b"]


def test_target_and_weight_from_class_indices():
    t = task()
    gt = np.array([0, 0, 1, 2, 2, 2, 7, 0], dtype=np.uint8)  # 7: unknown class
    target = t.predictor.create_target(gt, (4,))
    assert target.shape == (3, 8) and target.dtype == np.float32
    assert target[:, 0].tolist() == [1, 0, 0] and target[:, 3].tolist() == [0, 0, 1]
    assert target[:, 6].tolist() == [0, 0, 0]
    weight = t.predictor.create_weight(gt, target, None, (4,))
    # 7 known voxels: bg 3/7, a 1/7, b 3/7; weight 1 / (3 f)
    w = weight[0]
    assert np.allclose(weight, w[None])
    assert w[0] == pytest.approx(7 / 9) and w[2] == pytest.approx(7 / 3)
    assert w[3] == pytest.approx(7 / 9) and w[6] == 0
    masked = t.predictor.create_weight(gt, target, np.array([1, 1, 1, 1, 1, 1, 1, 0]), (4,))
    assert masked[0, 7] == 0 and masked[0, 0] > 0


def test_target_from_class_channels():
    t = task()
    channels = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]], dtype=np.uint8)
    target = t.predictor.create_target(channels, (1,))
    assert target.tolist() == [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]
    assert t.predictor.create_weight(channels, target, None, (1,))[0, 3] == 0  # no class set


def test_cross_entropy_value_mask_and_gradient():
    logits = torch.tensor([[[2.0, 0.0], [0.0, 0.0]]], requires_grad=True)  # (1, C=2, 2 voxels)
    target = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])
    weight = torch.tensor([[[1.0, 0.0], [1.0, 0.0]]])  # second voxel masked
    loss = CrossEntropyLoss().compute(logits, target, weight)
    expected = -math.log(math.exp(2) / (math.exp(2) + 1)) / 2
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    loss.backward()
    assert (logits.grad[..., 1] == 0).all()
    assert CrossEntropyLoss().compute(logits, target, torch.zeros_like(weight)).item() == 0


def test_argmax_single_parameter_and_per_class_metrics():
    t = task(("bg", "cell"))
    params = t.parameters
    assert len(params) == 1
    prediction = np.array([[0.9, 0.2, 0.4, 0.1], [0.1, 0.8, 0.6, 0.9]], dtype=np.float32)
    output = t.post_processor.process(params[0], prediction)
    assert output.tolist() == [[1, 0, 0, 0], [0, 1, 1, 1]]
    gt = np.array([0, 0, 1, 1])
    scores = t.evaluator.evaluate(output, gt, voxel_size=(1,))
    assert scores.cell__dice == pytest.approx(2 * 2 / (3 + 2))
    assert scores.bg__dice == pytest.approx(2 * 1 / (1 + 2))
    assert t.evaluator.criteria[0] == "bg__dice"
    assert t.evaluator.higher_is_better("cell__dice")


def test_model_has_softmax_in_eval():
    from dacapo.experiments.architectures import CNNectomeUNetConfig

    config = CNNectomeUNetConfig(
        name="u", input_shape=(12, 12), fmaps_out=4, fmaps_in=1, num_fmaps=2,
        fmap_inc_factor=2, downsample_factors=[(2, 2)], padding="same",
    )
    model = task().create_model(config.architecture_type(config))
    model.eval()
    with torch.no_grad():
        out = model(torch.randn(1, 1, 12, 12))
    assert out.shape[1] == 3
    assert torch.allclose(out.sum(1), torch.ones(1))
