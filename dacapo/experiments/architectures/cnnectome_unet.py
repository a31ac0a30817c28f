"""The CNNectome UNet (runtime of ``CNNectomeUNetConfig``).

Module and parameter names follow the original implementation so that its checkpoints load:
``unet.l_conv.<level>.conv_pass.<i>``, ``unet.r_up.0.<level>.up``, ``unet.r_conv.0.<level>``,
``unet.attention.0.<level>``; with ``upsample_factors`` ``unet`` is a ``Sequential`` whose first
entry is the UNet, followed by (Upsample, ConvPass) pairs.
"""

from __future__ import annotations

import math

import torch
from funlib.geometry import Coordinate
from torch import nn

from .architecture import Architecture

_CONV = {2: nn.Conv2d, 3: nn.Conv3d}
_TCONV = {2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d}
_BN = {2: nn.BatchNorm2d, 3: nn.BatchNorm3d}
_POOL = {2: nn.MaxPool2d, 3: nn.MaxPool3d}


def _activation(name):
    return nn.ReLU(inplace=True) if name == "ReLU" else getattr(nn, name)()


def _center_crop(x: torch.Tensor, shape) -> torch.Tensor:
    spatial = x.shape[-len(shape):]
    if tuple(spatial) == tuple(shape):
        return x
    offset = [(a - b) // 2 for a, b in zip(spatial, shape)]
    return x[(..., *(slice(o, o + s) for o, s in zip(offset, shape)))]


class ConvPass(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_sizes, activation="ReLU", padding="valid", batch_norm=True):
        super().__init__()
        layers = []
        for k in kernel_sizes:
            self.dims = len(k)
            layers.append(_CONV[self.dims](in_channels, out_channels, tuple(k), padding=padding))
            if batch_norm:
                layers.append(_BN[self.dims](out_channels))
            if activation is not None:
                layers.append(_activation(activation))
            in_channels = out_channels
        self.conv_pass = nn.Sequential(*layers)

    def forward(self, x):
        return self.conv_pass(x)


class MaxDownsample(nn.Module):
    def __init__(self, factor):
        super().__init__()
        self.factor = tuple(factor)
        self.down = _POOL[len(self.factor)](self.factor, stride=self.factor)

    def forward(self, x):
        if any(s % f for s, f in zip(x.shape[-len(self.factor):], self.factor)):
            raise RuntimeError(
                f"cannot max-pool feature maps of shape {tuple(x.shape)} by {self.factor}: not divisible"
            )
        return self.down(x)


class Upsample(nn.Module):
    """Upsample ``g`` (nearest + 1-wide convolution, or transposed convolution); with
    ``crop_factor`` crop it so that the following convolutions keep translation equivariance;
    with a skip ``f_left`` crop that to match and concatenate ``[f_left, g]``."""

    def __init__(self, factor, in_channels, out_channels, constant=True, activation="ReLU",
                 crop_factor=None, next_conv_kernel_sizes=None):
        super().__init__()
        self.factor = tuple(factor)
        dims = len(self.factor)
        self.constant = constant
        if constant:
            layers = [nn.Upsample(scale_factor=self.factor, mode="nearest"), _CONV[dims](in_channels, out_channels, 1)]
        else:
            layers = [_TCONV[dims](in_channels, out_channels, self.factor, stride=self.factor)]
        if activation is not None:
            layers.append(_activation(activation))
        self.up = nn.Sequential(*layers) if len(layers) > 1 else layers[0]
        self.crop_factor = None if crop_factor is None else tuple(crop_factor)
        self.conv_crop = (
            None if next_conv_kernel_sizes is None
            else tuple(sum(k[d] - 1 for k in next_conv_kernel_sizes) for d in range(dims))
        )

    def forward(self, g, f_left=None):
        if self.constant:  # 1-wide conv and activation commute with repeating: run them first
            for layer in list(self.up)[1:]:
                g = layer(g)
            g = self.up[0](g)
        else:
            g = self.up(g)
        dims = len(self.factor)
        if self.crop_factor is not None:
            g = _center_crop(g, [
                (s - c) // f * f + c for s, c, f in zip(g.shape[-dims:], self.conv_crop, self.crop_factor)
            ])
        if f_left is None:
            return g
        return torch.cat([_center_crop(f_left, g.shape[-dims:]), g], dim=1)


class AttentionBlockModule(nn.Module):
    """Attention gate on the skip ``x`` from the coarser gating signal ``g``. Returns the part of
    ``x`` that ``g`` covers (centred, ``g.shape * factor``), weighted by a sigmoid map.

    Unlike the original (zero-padded ``g``, trilinear ``align_corners=True`` upsampling of the map),
    the map is computed where ``g`` exists and repeated: the network stays translation
    equivariant, so blockwise predictions have no seams. Parameters are the original's.
    """

    def __init__(self, F_g, F_l, F_int, dims, upsample_factor, batch_norm=True):
        super().__init__()
        ks = [(1,) * dims] * 2
        self.factor = tuple(upsample_factor)
        self.W_g = ConvPass(F_g, F_int, ks, activation=None, padding="same", batch_norm=batch_norm)
        self.W_x = nn.Sequential(
            ConvPass(F_l, F_int, ks, activation=None, padding="same", batch_norm=batch_norm),
            MaxDownsample(upsample_factor),
        )
        self.psi = ConvPass(F_int, 1, ks, activation="Sigmoid", padding="same", batch_norm=batch_norm)
        self.up = nn.Upsample(scale_factor=self.factor, mode="nearest")
        self.relu = nn.ReLU()

    def forward(self, g, x):
        dims = len(self.factor)
        coarse = g.shape[-dims:]
        offset = [(s // f - c) // 2 * f for s, f, c in zip(x.shape[-dims:], self.factor, coarse)]
        x = x[(..., *(slice(o, o + c * f) for o, c, f in zip(offset, coarse, self.factor)))]
        psi = self.psi(self.relu(self.W_g(g) + self.W_x(x)))
        return x * self.up(psi)


class CNNectomeUNetModule(nn.Module):
    def __init__(self, in_channels, num_fmaps, fmap_inc_factor, downsample_factors, kernel_size_down,
                 kernel_size_up, num_fmaps_out=None, activation="ReLU", constant_upsample=True,
                 padding="valid", use_attention=False, batch_norm=True):
        super().__init__()
        levels = len(downsample_factors) + 1
        self.num_levels = levels
        self.dims = len(downsample_factors[0])
        self.use_attention = use_attention
        self.out_channels = num_fmaps_out or num_fmaps
        fmaps = [num_fmaps * fmap_inc_factor**level for level in range(levels)]
        # channels after upsampling: no contraction at the top level (as in the original)
        up_fmaps = [fmaps[level + (1 if level == 0 else 0)] for level in range(levels - 1)]
        crop_factors = [tuple(math.prod(f[d] for f in downsample_factors[level:]) for d in range(self.dims))
                        for level in range(levels - 1)]
        valid = padding != "same"
        self.l_conv = nn.ModuleList([
            ConvPass(in_channels if level == 0 else fmaps[level - 1], fmaps[level], kernel_size_down[level],
                     activation, padding, batch_norm)
            for level in range(levels)
        ])
        self.l_down = nn.ModuleList([MaxDownsample(downsample_factors[level]) for level in range(levels - 1)])
        self.r_up = nn.ModuleList([nn.ModuleList([
            Upsample(downsample_factors[level], fmaps[level + 1], up_fmaps[level], constant_upsample, activation,
                     crop_factors[level] if valid else None, kernel_size_up[level] if valid else None)
            for level in range(levels - 1)
        ])])
        if use_attention:
            self.attention = nn.ModuleList([nn.ModuleList([
                AttentionBlockModule(fmaps[level + 1], fmaps[level],
                                     num_fmaps_out if (num_fmaps_out and level == 0) else up_fmaps[level],
                                     self.dims, downsample_factors[level], batch_norm)
                for level in range(levels - 1)
            ])])
        self.r_conv = nn.ModuleList([nn.ModuleList([
            ConvPass(fmaps[level] + up_fmaps[level],
                     num_fmaps_out if (num_fmaps_out and level == 0) else fmaps[level],
                     kernel_size_up[level], activation, padding, batch_norm)
            for level in range(levels - 1)
        ])])

    def rec_forward(self, level, f_in):
        i = self.num_levels - level - 1
        f_left = self.l_conv[i](f_in)
        if level == 0:
            return f_left
        g_out = self.rec_forward(level - 1, self.l_down[i](f_left))
        if self.use_attention:
            f_left = self.attention[0][i](g_out, f_left)
        return self.r_conv[0][i](self.r_up[0][i](g_out, f_left))

    def forward(self, x):
        return self.rec_forward(self.num_levels - 1, x)


class CNNectomeUNet(Architecture):
    def __init__(self, architecture_config):
        super().__init__()
        self.config = c = architecture_config
        self.fmaps_in = c.fmaps_in
        self.fmaps_out = c.fmaps_out
        self.upsample_factors = list(c.upsample_factors or [])
        unet = CNNectomeUNetModule(
            c.fmaps_in, c.num_fmaps, c.fmap_inc_factor, [tuple(f) for f in c.downsample_factors],
            c.kernel_sizes_down, c.kernel_sizes_up, num_fmaps_out=c.fmaps_out,
            constant_upsample=c.constant_upsample, padding=c.padding, use_attention=c.use_attention,
            batch_norm=c.batch_norm,
        )
        if self.upsample_factors:
            layers = [unet]
            for factor in self.upsample_factors:
                layers.append(Upsample(factor, c.fmaps_out, c.fmaps_out, constant=True, activation="ReLU"))
                layers.append(ConvPass(c.fmaps_out, c.fmaps_out, [(3,) * c.dims] * 2, "ReLU", c.padding, c.batch_norm))
            unet = nn.Sequential(*layers)
        self.unet = unet
        for module in self.modules():
            if isinstance(module, nn.modules.conv._ConvNd):
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")

    @property
    def input_shape(self) -> Coordinate:
        return self.config.input_shape

    @property
    def eval_shape_increase(self) -> Coordinate:
        return self.config.eval_shape_increase_or_default

    @property
    def num_in_channels(self) -> int:
        return self.fmaps_in

    @property
    def num_out_channels(self) -> int:
        return self.fmaps_out

    @property
    def dims(self) -> int:
        return self.config.dims

    def compute_output_shape(self, input_shape: Coordinate) -> Coordinate:
        return self.config.compute_output_shape(input_shape)

    def scale(self, input_voxel_size: Coordinate) -> Coordinate:
        voxel_size = Coordinate(input_voxel_size)
        total = self.config.total_upsample
        if any(v % f for v, f in zip(voxel_size, total)):
            raise ValueError(
                f"voxel size {tuple(voxel_size)} cannot be super-resolved by {tuple(total)} "
                f"(upsample_factors of {self.config.name!r}): not divisible"
            )
        return Coordinate(v // f for v, f in zip(voxel_size, total))

    def forward(self, x):
        self.config.compute_output_shape(x.shape[2:])  # a clear error for shapes it cannot process
        return self.unet(x)


from dacapo.compat import removed_names  # noqa: E402

__getattr__ = removed_names(__name__)  # the names of dacapo-ml 0.3.5 that are gone
