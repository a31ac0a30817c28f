"""Inner-distance, hot-distance, pretrained and dummy tasks; starts (channel matching, COSEM)."""

import numpy as np
import pytest
import torch

from dacapo.config import ConfigError
from dacapo.experiments.architectures import CNNectomeUNetConfig
from dacapo.experiments.tasks import (
    DistanceTaskConfig,
    DummyTaskConfig,
    HotDistanceTaskConfig,
    InnerDistanceTaskConfig,
    OneHotTaskConfig,
    PretrainedTaskConfig,
)


def architecture():
    config = CNNectomeUNetConfig(
        name="u", input_shape=(12, 12), fmaps_out=4, fmaps_in=1, num_fmaps=2,
        fmap_inc_factor=2, downsample_factors=[(2, 2)], padding="same",
    )
    return config.architecture_type(config)


def build(config):
    return config.task_type(config)


def test_inner_distance_targets():
    t = build(InnerDistanceTaskConfig(name="i", channels=["cell"], clip_distance=10,
                                      tol_distance=0, scale_factor=2.0))
    labels = np.array([[0, 1, 1, 1, 2, 2, 0]], dtype=np.uint64)
    target = t.predictor.create_target(labels, (1,))  # (1, 7): one channel, 1D
    d = np.array([0, 1, 2, 1, 1, 1, 0], dtype=np.float32)
    assert np.allclose(target[0], np.tanh(d / 2.0))
    weight = t.predictor.create_weight(labels, target, None, (1,))
    assert weight.shape == target.shape and weight[0, 0] > weight[0, 1]
    out = t.post_processor.process(t.parameters[0], target)
    assert t.evaluator.evaluate(out, labels, voxel_size=(1,)).cell__dice == 1.0


def test_hot_distance_channels_and_loss():
    config = HotDistanceTaskConfig(name="h", channels=["a", "b"], clip_distance=10,
                                   tol_distance=0, scale_factor=2.0)
    t = build(config)
    assert t.predictor.channels == ["a", "b", "a_distance", "b_distance"]
    gt = np.zeros((2, 8, 8), dtype=np.uint8)
    gt[0, 2:5, 2:5] = 1
    gt[1, 5:, :] = 1
    target = t.predictor.create_target(gt, (1, 1))
    assert target.shape == (4, 8, 8)
    assert np.array_equal(target[:2], gt) and np.all((target[2:] > 0) == (gt > 0))
    weight = t.predictor.create_weight(gt, target, None, (1, 1))
    assert weight.shape == target.shape and np.all(weight > 0)
    with pytest.raises(ValueError, match="channel"):
        t.predictor.create_target(gt[:1], (1, 1))
    model = t.create_model(architecture())
    assert model.num_out_channels == 4
    model.eval()
    with torch.no_grad():
        out = model(torch.randn(1, 1, 12, 12))
    assert out[:, :2].min() >= 0 and out[:, :2].max() <= 1  # sigmoid on the hot half only
    loss = t.loss.compute(torch.zeros(1, 4, 8, 8), torch.tensor(target[None]), torch.ones(1, 4, 8, 8))
    expected = np.log(2) + np.mean(target[2:] ** 2)
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    output = t.post_processor.process(t.parameters[4], target)  # threshold 0 on distances
    assert output.shape == (2, 8, 8) and np.array_equal(output, gt)


def test_pretrained_task_loads_weights(tmp_path):
    sub = OneHotTaskConfig(name="sub", classes=["bg", "fg"])
    arch = architecture()
    torch.manual_seed(1)
    source = build(sub).create_model(arch)
    path = tmp_path / "weights.pt"
    torch.save({"model": source.state_dict()}, path)
    config = PretrainedTaskConfig(name="p", sub_task_config=sub, weights=str(path))
    assert config.weights == path and config.verify()[0]
    model = build(config).create_model(architecture())
    for key, value in source.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key
    assert build(config).evaluator.criteria == build(sub).evaluator.criteria
    bad = PretrainedTaskConfig(name="p", sub_task_config=OneHotTaskConfig(name="s", classes=list("abc")),
                               weights=path)
    with pytest.raises(ConfigError, match="do not fit"):
        build(bad).create_model(architecture())
    assert not PretrainedTaskConfig(name="p", sub_task_config=sub, weights=tmp_path / "no").verify()[0]


def test_dummy_task():
    t = build(DummyTaskConfig(name="d", embedding_dims=2))
    gt = np.array([[0, 1, 1, 0]])
    target = t.predictor.create_target(gt, (1,))
    assert target.shape == (2, 4) and target[1].tolist() == [0, 1, 1, 0]
    out = t.post_processor.process(t.parameters[0], target)
    assert t.evaluator.evaluate(out, gt, voxel_size=(1,)).dummy_0__dice == 1.0


def test_start_matches_head_channels_by_name():
    from dacapo.experiments.starts.start import transfer_state

    arch = architecture()
    torch.manual_seed(0)
    source = build(OneHotTaskConfig(name="s", classes=["bg", "mito", "er"])).create_model(arch)
    torch.manual_seed(1)
    target = build(OneHotTaskConfig(name="t", classes=["er", "nucleus"])).create_model(architecture())
    fresh = {k: v.clone() for k, v in target.state_dict().items()}
    skipped = transfer_state(target, source.state_dict(), ["bg", "mito", "er"], ["er", "nucleus"])
    assert skipped == []
    s, t = source.state_dict(), target.state_dict()
    assert torch.equal(t["prediction_head.weight"][0], s["prediction_head.weight"][2])
    assert torch.equal(t["prediction_head.bias"][0], s["prediction_head.bias"][2])
    assert torch.equal(t["prediction_head.weight"][1], fresh["prediction_head.weight"][1])
    body = [k for k in s if not k.startswith(("prediction_head", "chain.1"))]
    assert all(torch.equal(t[k], s[k]) for k in body)
    # same number of channels in another order: matched by name, not position
    torch.manual_seed(2)
    swapped = build(OneHotTaskConfig(name="w", classes=["er", "mito", "bg"])).create_model(architecture())
    transfer_state(swapped, s, ["bg", "mito", "er"], ["er", "mito", "bg"])
    assert torch.equal(swapped.state_dict()["prediction_head.weight"][0], s["prediction_head.weight"][2])


def test_cosem_start_offline_message(tmp_path, monkeypatch):
    from dacapo.experiments.run_config import RunConfig  # noqa: F401 - registers families
    from dacapo.experiments.starts import CosemStartConfig, StartConfig

    monkeypatch.setenv("DACAPO_COSEM_URL", "http://127.0.0.1:9/cosem")
    monkeypatch.setenv("DACAPO_COSEM_CACHE", str(tmp_path / "cache"))
    config = CosemStartConfig("setup04", "1820500")
    assert isinstance(config, StartConfig)
    start = config.start_type(config)
    with pytest.raises(ConfigError) as info:
        start.initialize_weights(build(DistanceTaskConfig(
            name="d", channels=["x"], clip_distance=1, tol_distance=1)).create_model(architecture()))
    message = str(info.value)
    assert "\n" not in message and message.startswith("CosemStartConfig: cannot fetch COSEM weights")
    assert "setup04" in message and "offline?" in message
