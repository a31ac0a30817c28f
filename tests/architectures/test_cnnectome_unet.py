from __future__ import annotations

import attrs
import pytest
import torch
from funlib.geometry import Coordinate
from hypothesis import HealthCheck, assume, given, settings

from dacapo.config import ConfigError
from dacapo.experiments.architectures import CNNectomeUNetConfig
from dacapo.experiments.architectures.cnnectome_unet import CNNectomeUNet
from dacapo.experiments.architectures.cnnectome_unet_config import ShapeError
from dacapo.store.converter import structure, unstructure

from .strategies import unet_configs

# torch notes that 'same' padding with even kernels copies the input: expected here
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")


def tutorial_config() -> CNNectomeUNetConfig:
    # exactly the seed tutorial's call
    return CNNectomeUNetConfig(
        name="example_attention-upsample-unet",
        input_shape=(216, 216, 216),
        fmaps_out=72,
        fmaps_in=1,
        num_fmaps=12,
        fmap_inc_factor=6,
        downsample_factors=[(2, 2, 2), (3, 3, 3), (3, 3, 3)],
        kernel_size_down=None,
        kernel_size_up=None,
        eval_shape_increase=(72, 72, 72),
        upsample_factors=[(2, 2, 2)],
        constant_upsample=True,
        padding="valid",
    )


def test_tutorial_shapes_by_hand():
    config = tutorial_config()
    assert config.input_shape == Coordinate(216, 216, 216)
    assert config.downsample_factors == [Coordinate(2, 2, 2), Coordinate(3, 3, 3), Coordinate(3, 3, 3)]
    # down: 216 -2-2 = 212, /2 = 106; -4 = 102, /3 = 34; -4 = 30, /3 = 10; bottom -4 = 6
    # up (crop to n*f + 4 with f = product of the factors below):
    #   6*3 = 18 -> crop to 16 (f=3) -> 12;  12*3 = 36 -> crop to 31 (f=9) -> 27;
    #   27*2 = 54 -> crop to 40 (f=18) -> 36;  super-resolution: 36*2 = 72 -> -4 = 68
    assert config.compute_output_shape(Coordinate(216, 216, 216)) == Coordinate(68, 68, 68)
    # eval: 288 -> 284/2=142 -> 138/3=46 -> 42/3=14 -> 10; 30->28->24; 72->67->63; 126->112->108; 216->212
    assert config.eval_input_shape == Coordinate(288, 288, 288)
    assert config.compute_output_shape(config.eval_input_shape) == Coordinate(212, 212, 212)
    assert config.verify()[0]
    assert config.architecture_type is CNNectomeUNet

    with torch.device("meta"):  # build without allocating 235M parameters
        arch = config.architecture_type(config)
    assert arch.input_shape == Coordinate(216, 216, 216)
    assert arch.eval_shape_increase == Coordinate(72, 72, 72)
    assert (arch.num_in_channels, arch.num_out_channels, arch.dims) == (1, 72, 3)
    assert arch.compute_output_shape(Coordinate(216, 216, 216)) == Coordinate(68, 68, 68)
    assert arch.scale(Coordinate(8, 8, 8)) == Coordinate(4, 4, 4)
    assert sum(p.numel() for p in arch.parameters()) == 234_966_804  # no batch norm (the default)
    # channels: 12, 72, 432, 2592 down; the bottleneck is 2592 -> 2592
    assert arch.unet[0].l_conv[3].conv_pass[2].weight.shape == (2592, 2592, 3, 3, 3)


def test_round_trip_exact():
    config = tutorial_config()
    data = unstructure(config)
    assert data["__type__"] == "CNNectomeUNetConfig"
    assert data["downsample_factors"] == [[2, 2, 2], [3, 3, 3], [3, 3, 3]]
    assert structure(data) == config
    assert structure(data, CNNectomeUNetConfig) == config
    k = attrs.evolve(
        config, kernel_size_down=[[(3, 3, 3), (3, 3, 3)]] * 4, kernel_size_up=[[(3, 3, 3)] * 2] * 3,
        use_attention=True, batch_norm=False,
    )
    assert isinstance(k.kernel_size_down[0][0], Coordinate)
    assert structure(unstructure(k)) == k


def test_field_order_and_defaults():
    names = [f.name for f in attrs.fields(CNNectomeUNetConfig)]
    assert names == [
        "name", "input_shape", "fmaps_out", "fmaps_in", "num_fmaps", "fmap_inc_factor",
        "downsample_factors", "kernel_size_down", "kernel_size_up", "eval_shape_increase",
        "upsample_factors", "constant_upsample", "padding", "use_attention", "batch_norm",
    ]
    c = CNNectomeUNetConfig("u", (64, 64), 4, 1, 4, 2, [(2, 2)])
    assert (c.kernel_size_down, c.kernel_size_up, c.eval_shape_increase, c.upsample_factors) == (None,) * 4
    # batch_norm defaults to False, as in dacapo-ml 0.3.5
    assert (c.constant_upsample, c.padding, c.use_attention, c.batch_norm) == (True, "valid", False, False)
    # default eval increase: a multiple of the total downsampling, about a third of the input
    assert c.eval_shape_increase_or_default == Coordinate(22, 22)
    assert all(v % 2 == 0 and v >= 64 // 3 for v in c.eval_shape_increase_or_default)
    assert c.architecture_type(c).eval_shape_increase == Coordinate(22, 22)
    tut = attrs.evolve(tutorial_config(), eval_shape_increase=None)
    assert tut.eval_shape_increase_or_default == Coordinate(72, 72, 72)


def one_line_error(excinfo) -> str:
    message = str(excinfo.value)
    assert "\n" not in message
    return message


def test_invalid_input_shape_one_line_error_with_suggestions():
    with pytest.raises(ConfigError) as e:
        attrs.evolve(tutorial_config(), input_shape=(217, 216, 210))
    message = one_line_error(e)
    assert "'example_attention-upsample-unet'" in message and "input_shape=(217, 216, 210)" in message
    assert "dim 0" in message and "dim 2" in message and "dim 1" not in message
    assert "nearest valid: (216, 216, 198) or (234, 216, 216)" in message
    for shape in [(216, 216, 198), (234, 216, 216)]:  # the suggestions work
        attrs.evolve(tutorial_config(), input_shape=shape)


def test_too_small_input():
    with pytest.raises(ConfigError) as e:
        attrs.evolve(tutorial_config(), input_shape=(20, 20, 20), eval_shape_increase=None)
    assert "nearest valid" in one_line_error(e)


def test_invalid_eval_shape_increase():
    with pytest.raises(ConfigError) as e:
        attrs.evolve(tutorial_config(), eval_shape_increase=(70, 72, 72))
    message = one_line_error(e)
    assert "eval_shape_increase=(70, 72, 72)" in message and "(54, 72, 72) or (72, 72, 72)" in message


@pytest.mark.parametrize(
    "changes, fragment",
    [
        (dict(downsample_factors=[(2, 2)]), "downsample_factors=[(2, 2)]"),
        (dict(downsample_factors=[]), "downsample_factors=[]"),
        (dict(upsample_factors=[(2, 2)]), "upsample_factors=[(2, 2)]"),
        (dict(kernel_size_down=[[(3, 3, 3)]] * 2), "kernel_size_down="),
        (dict(kernel_size_up=[[(3, 3)]] * 3), "kernel_size_up="),
        (dict(padding="full"), "padding='full'"),
        (dict(fmaps_out=0), "fmaps_out=0"),
        (dict(eval_shape_increase=(1, 2)), "eval_shape_increase=(1, 2)"),
        (dict(input_shape=(216, 216, 216, 216)), "input_shape="),
        (dict(input_shape=None), "input_shape=None"),
        (dict(input_shape="216"), "input_shape='216' is invalid"),
        (dict(downsample_factors=[2, 3]), "downsample_factors=[2, 3] is invalid"),
        (dict(kernel_size_up=[[3, 3]] * 3), "kernel_size_up=[[3, 3], [3, 3], [3, 3]] is invalid"),
    ],
)
def test_config_errors(changes, fragment):
    with pytest.raises(ConfigError) as e:
        attrs.evolve(tutorial_config(), **changes)
    message = one_line_error(e)
    assert fragment in message and "CNNectomeUNetConfig 'example_attention-upsample-unet'" in message


def test_structure_reports_invalid_shape():
    data = unstructure(tutorial_config())
    data["input_shape"] = [215, 216, 216]
    with pytest.raises(ConfigError) as e:
        structure(data)
    assert "input_shape" in one_line_error(e)


def test_forward_rejects_bad_shape_clearly():
    c = CNNectomeUNetConfig("u", (44, 44), 3, 1, 2, 2, [(2, 2)])
    arch = c.architecture_type(c)
    with pytest.raises(ShapeError, match="nearest valid"):
        arch(torch.zeros(1, 1, 45, 44))


def test_scale():
    c = CNNectomeUNetConfig("u", (64, 64), 2, 1, 2, 2, [(2, 2)], upsample_factors=[(2, 1), (2, 2)], padding="same")
    arch = c.architecture_type(c)
    assert arch.scale(Coordinate(8, 8)) == Coordinate(2, 4)
    assert arch.compute_output_shape(Coordinate(64, 64)) == Coordinate(256, 128)
    assert tuple(arch(torch.zeros(1, 1, 64, 64)).shape) == (1, 2, 256, 128)
    with pytest.raises(ValueError, match="not divisible"):
        arch.scale(Coordinate(6, 6))
    plain = CNNectomeUNetConfig("v", (64, 64), 2, 1, 2, 2, [(2, 2)])
    assert plain.architecture_type(plain).scale(Coordinate(5, 7)) == Coordinate(5, 7)


def test_same_padding_keeps_shape():
    c = CNNectomeUNetConfig("u", (24, 36, 36), 2, 1, 2, 2, [(1, 2, 2), (2, 3, 3)], padding="same",
                            use_attention=True)
    arch = c.architecture_type(c)
    assert c.compute_output_shape(c.input_shape) == c.input_shape
    assert tuple(arch(torch.zeros(1, 1, *c.input_shape)).shape[2:]) == tuple(c.input_shape)
    with pytest.raises(ConfigError, match=r"nearest valid: \(24, 36, 36\) or \(24, 36, 42\)"):
        attrs.evolve(c, input_shape=(24, 36, 40))


def test_translation_equivariance_valid_padding():
    # valid-padded: shifting the input by the total downsampling shifts the output exactly
    torch.manual_seed(0)
    c = CNNectomeUNetConfig("u", (60, 60), 2, 1, 3, 2, [(2, 2), (3, 3)], upsample_factors=[(2, 2)],
                            constant_upsample=False, use_attention=True)
    arch = c.architecture_type(c).eval().double()
    p, u = 6, 2  # total downsampling, super-resolution
    big = c.input_shape + Coordinate(p, p)
    x = torch.randn(1, 1, *big, dtype=torch.float64)
    out_big = arch(x)
    out = c.compute_output_shape(c.input_shape)
    assert tuple(out_big.shape[2:]) == tuple(out + Coordinate(p * u, p * u))
    shifted = arch(x[..., p:, p:])
    torch.testing.assert_close(shifted, out_big[..., p * u:, p * u:])
    torch.testing.assert_close(arch(x[..., :-p, :-p]), out_big[..., : out[0], : out[1]])


# --- property test: analytic output shape == real forward ---------------------------------------
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(unet_configs())
def test_output_shape_matches_forward(config):
    assert structure(unstructure(config)) == config
    arch = config.architecture_type(config)
    expected = arch.compute_output_shape(config.input_shape)
    if config.padding == "same":
        assert expected == config.input_shape * config.total_upsample
    arch.eval()  # shapes do not depend on the mode; batch norm cannot train on 1 value per channel
    with torch.no_grad():
        y = arch(torch.randn(1, config.fmaps_in, *config.input_shape))
    assert y.shape[:2] == (1, config.fmaps_out)
    assert tuple(y.shape[2:]) == tuple(expected)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(unet_configs())
def test_translation_equivariance_property(config):
    # shifting the input by the total downsampling shifts the output by that times the
    # super-resolution: blockwise prediction has no seams (attention gates included)
    assume(config.padding == "valid")
    arch = config.architecture_type(config).eval().double()
    p, u = config.total_downsample, config.total_upsample
    x = torch.randn(1, config.fmaps_in, *(config.input_shape + p), dtype=torch.float64)
    with torch.no_grad():
        out_big = arch(x)
        shifted = arch(x[(..., *(slice(s, None) for s in p))])
    torch.testing.assert_close(shifted, out_big[(..., *(slice(s * f, None) for s, f in zip(p, u)))])
