from __future__ import annotations

import pytest
import torch
from funlib.geometry import Coordinate

from dacapo.experiments import Model
from dacapo.experiments.architectures import (
    Architecture,
    CNNectomeUNetConfig,
    DummyArchitectureConfig,
)


def small_unet(**changes):
    kwargs = dict(name="m", input_shape=(40, 40), fmaps_out=4, fmaps_in=1, num_fmaps=2,
                  fmap_inc_factor=2, downsample_factors=[(2, 2)], eval_shape_increase=(8, 8))
    kwargs.update(changes)
    config = CNNectomeUNetConfig(**kwargs)
    return config.architecture_type(config)


def test_model_shapes_and_channels():
    arch = small_unet()
    model = Model(arch, torch.nn.Conv2d(4, 3, 1))
    # 40 -> 36 /2 = 18 -> 14 -> x2 = 28 -> crop (28-4)//2*2+4 = 28 -> 24
    assert model.input_shape == Coordinate(40, 40)
    assert model.eval_input_shape == Coordinate(48, 48)
    assert (model.num_in_channels, model.num_out_channels) == (1, 3)
    assert model.output_shape == Coordinate(24, 24)
    assert model.compute_output_shape(Coordinate(48, 48)) == (3, Coordinate(32, 32))
    y = model(torch.zeros(2, 1, 48, 48))
    assert tuple(y.shape) == (2, 3, 32, 32)
    assert list(model.chain) == [arch, model.prediction_head]
    assert model.scale(Coordinate(4, 4)) == Coordinate(4, 4)
    with pytest.raises(AssertionError):
        model.compute_output_shape((40, 40))


def test_heads_that_change_shape():
    arch = small_unet()
    head = torch.nn.Sequential(torch.nn.Conv2d(4, 5, 3), torch.nn.ReLU(), torch.nn.Conv2d(5, 2, 1))
    model = Model(arch, head)
    assert (model.num_out_channels, model.output_shape) == (2, Coordinate(22, 22))

    class Crop(torch.nn.Module):  # unknown to the arithmetic: computed on fake tensors
        def forward(self, x):
            return x[:, :1, 1:-1, 2:]

    model = Model(arch, Crop())
    assert (model.num_out_channels, model.output_shape) == (1, Coordinate(22, 22))
    assert tuple(model(torch.zeros(1, 1, 40, 40)).shape) == (1, 1, 22, 22)


def test_eval_activation_only_in_eval_mode():
    torch.manual_seed(0)
    model = Model(small_unet(batch_norm=False), torch.nn.Conv2d(4, 1, 1), torch.nn.Sigmoid())
    x = torch.randn(1, 1, 40, 40)
    model.train()
    raw = model(x)
    assert raw.min() < 0 or raw.max() > 1
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(model(x), torch.sigmoid(raw.detach()))
    plain = Model(small_unet(), torch.nn.Conv2d(4, 1, 1))
    assert plain.eval_activation is None
    plain.eval()
    plain(x)


def test_weights_are_not_reinitialised():
    arch = small_unet()
    head = torch.nn.Conv2d(4, 1, 1)
    with torch.no_grad():
        for p in list(arch.parameters()) + list(head.parameters()):
            p.fill_(0.125)
    model = Model(arch, head)
    assert all(bool((p == 0.125).all()) for p in model.parameters())


def test_state_dict_round_trip():
    a = Model(small_unet(), torch.nn.Conv2d(4, 1, 1))
    b = Model(small_unet(), torch.nn.Conv2d(4, 1, 1))
    b.load_state_dict(a.state_dict())
    a.eval(), b.eval()
    x = torch.randn(1, 1, 40, 40)
    torch.testing.assert_close(a(x), b(x))
    keys = a.state_dict().keys()
    assert "architecture.unet.l_conv.0.conv_pass.0.weight" in keys
    assert "chain.1.weight" in keys


def test_super_resolution_scale():
    model = Model(small_unet(upsample_factors=[(2, 2)], padding="same"), torch.nn.Conv2d(4, 1, 1))
    assert model.scale(Coordinate(8, 8)) == Coordinate(4, 4)
    assert model.output_shape == Coordinate(80, 80)


def test_dummy_architecture():
    config = DummyArchitectureConfig(name="dummy", num_in_channels=1, num_out_channels=12)
    arch = config.architecture_type(config)
    model = Model(arch, torch.nn.Conv3d(12, 2, 1))
    assert model.input_shape == Coordinate(40, 20, 20)
    assert model.eval_input_shape == Coordinate(40, 20, 20)
    assert model.compute_output_shape(Coordinate(40, 20, 20)) == (2, Coordinate(38, 18, 18))
    assert tuple(model(torch.zeros(1, 1, 40, 20, 20)).shape) == (1, 2, 38, 18, 18)


def test_architecture_default_output_shape_on_fake_tensors():
    class Wrapped(Architecture):
        def __init__(self):
            super().__init__()
            self.net = torch.nn.Sequential(torch.nn.Conv3d(2, 3, 5), torch.nn.BatchNorm3d(3),
                                           torch.nn.MaxPool3d(2))

        input_shape = Coordinate(20, 20, 20)
        num_in_channels = 2
        num_out_channels = 3

        def forward(self, x):
            return self.net(x)

    arch = Wrapped().train()
    before = arch.net[1].running_mean.clone()
    assert arch.compute_output_shape(Coordinate(20, 22, 24)) == Coordinate(8, 9, 10)
    assert arch.training and torch.equal(arch.net[1].running_mean, before)
    model = Model(arch, torch.nn.Conv3d(3, 1, 1))
    assert model.output_shape == Coordinate(8, 8, 8)
