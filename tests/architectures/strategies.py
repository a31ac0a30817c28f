"""Hypothesis strategy for valid ``CNNectomeUNetConfig``s (small enough to run): for the
property tests here and for the generic config round-trip test
(``CLASS_STRATEGIES["CNNectomeUNetConfig"] = unet_configs()``)."""

from __future__ import annotations

from hypothesis import assume
from hypothesis import strategies as st

from dacapo.experiments.architectures import CNNectomeUNetConfig
from dacapo.experiments.architectures.cnnectome_unet_config import ShapeError, unet_output_size_1d


def _size_ok(kwargs, dims, d, size):
    levels = len(kwargs["downsample_factors"]) + 1
    three = [(3,) * dims] * 2
    ks_down = kwargs["kernel_size_down"] or [three] * levels
    ks_up = kwargs["kernel_size_up"] or [three] * (levels - 1)
    try:
        unet_output_size_1d(
            size, [f[d] for f in kwargs["downsample_factors"]], [[k[d] for k in ks] for ks in ks_down],
            [[k[d] for k in ks] for ks in ks_up], [f[d] for f in kwargs["upsample_factors"] or []],
            kwargs["padding"],
        )
        return True
    except ShapeError:
        return False


@st.composite
def unet_configs(draw):
    dims = draw(st.sampled_from([2, 3]))
    levels = draw(st.integers(1, 3 if dims == 2 else 2))
    factors = draw(st.lists(st.tuples(*[st.integers(1, 3)] * dims), min_size=levels, max_size=levels))
    kernel = st.tuples(*[st.integers(1, 3)] * dims)
    kernels = st.lists(kernel, min_size=1, max_size=2)
    kwargs = dict(
        name=draw(st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,11}", fullmatch=True)),
        fmaps_out=draw(st.integers(1, 3)), fmaps_in=draw(st.integers(1, 2)),
        num_fmaps=2, fmap_inc_factor=draw(st.integers(1, 2)), downsample_factors=factors,
        kernel_size_down=draw(st.none() | st.lists(kernels, min_size=levels + 1, max_size=levels + 1)),
        kernel_size_up=draw(st.none() | st.lists(kernels, min_size=levels, max_size=levels)),
        upsample_factors=draw(st.none() | st.lists(st.tuples(*[st.integers(1, 2)] * dims), max_size=1)),
        constant_upsample=draw(st.booleans()), padding=draw(st.sampled_from(["valid", "same"])),
        use_attention=draw(st.booleans()), batch_norm=draw(st.booleans()),
    )
    limit = 128 if dims == 2 else 40
    shape = []
    for d in range(dims):
        start = draw(st.integers(1, limit))
        size = next((s for s in range(start, limit + 1) if _size_ok(kwargs, dims, d, s)), None)
        size = size or next((s for s in range(start, 0, -1) if _size_ok(kwargs, dims, d, s)), None)
        assume(size is not None)
        shape.append(size)
    config = CNNectomeUNetConfig(input_shape=tuple(shape), eval_shape_increase=(0,) * dims, **kwargs)
    if draw(st.booleans()):  # a random valid eval increase: multiples of the total downsampling
        increase = [draw(st.integers(0, 2)) * p for p in config.total_downsample]
        config = CNNectomeUNetConfig(input_shape=tuple(shape), eval_shape_increase=increase, **kwargs)
    return config
