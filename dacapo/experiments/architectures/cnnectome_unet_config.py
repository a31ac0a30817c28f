"""Config of the CNNectome UNet, and the exact (analytic) shape arithmetic of that network.

Only attrs and funlib.geometry are imported here; the torch module lives in ``cnnectome_unet.py``.
"""

from __future__ import annotations

import math
from typing import Optional

import attrs
from funlib.geometry import Coordinate

from dacapo.config import ConfigError, check, help_field, positive

from .architecture_config import ArchitectureConfig


# --- converters: normalise to Coordinates so that the converter round trip is exact ------------
def _coord(value):
    if isinstance(value, Coordinate):
        return value
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ValueError(f"expected a sequence of integers, got {value!r}")
    items = list(value)
    if any(isinstance(v, bool) or not float(v).is_integer() for v in items):
        raise ValueError(f"expected a sequence of integers, got {value!r}")
    return Coordinate(int(v) for v in items)


def _named(convert):
    """An attrs converter whose errors are one-line ``ConfigError``s naming config and field."""

    def wrapped(value, instance, field):
        if value is None:
            return None
        try:
            return convert(value)
        except Exception as e:
            raise ConfigError(
                f"{type(instance).__name__} {getattr(instance, 'name', '?')!r}: "
                f"{field.name}={value!r} is invalid ({e})"
            ) from None

    return attrs.Converter(wrapped, takes_self=True, takes_field=True)


_coord_field = _named(_coord)
_coords_field = _named(lambda value: [_coord(v) for v in value])
_kernels_field = _named(lambda value: [[_coord(k) for k in level] for level in value])


# --- shape arithmetic ---------------------------------------------------------------------------
class ShapeError(ValueError):
    """An input shape the network cannot process (one line, says where it fails)."""


def _conv(size: int, kernels: list[int], padding: str) -> int:
    return size if padding == "same" else size - sum(k - 1 for k in kernels)


def unet_output_size_1d(
    size: int,
    factors: list[int],
    ks_down: list[list[int]],
    ks_up: list[list[int]],
    upsample: list[int],
    padding: str,
) -> int:
    """Output size along one axis of the CNNectome UNet for input ``size`` (voxels).

    Mirrors the module exactly: valid/same convolutions, max-pool downsampling (sizes must divide),
    upsampling followed by the crop that keeps the network translation equivariant
    (``crop_to_factor``, valid padding only), the cropped skip connection, and the final
    super-resolution layers (upsample + two 3-wide convolutions).
    Raises ``ShapeError`` if the size is not processable.
    """
    levels = len(factors) + 1
    crop_factors = [math.prod(factors[level:]) for level in range(levels - 1)]
    s = size
    left = []
    for level in range(levels):
        for k in ks_down[level]:
            s = _conv(s, [k], padding)
            if s < 1:
                raise ShapeError(f"size {size} shrinks to {s} in the convolutions of level {level}")
        if level == levels - 1:
            break
        left.append(s)
        if s % factors[level] != 0:
            raise ShapeError(
                f"size {s} after the convolutions of level {level} is not divisible by the "
                f"downsample factor {factors[level]}"
            )
        s //= factors[level]
    for level in reversed(range(levels - 1)):
        s *= factors[level]
        if padding != "same":
            c = sum(k - 1 for k in ks_up[level])
            n = (s - c) // crop_factors[level]
            if n < 1:
                raise ShapeError(f"size {size} is too small: the up path at level {level} vanishes")
            s = n * crop_factors[level] + c
        if s > left[level]:
            raise ShapeError(f"up path at level {level} ({s}) is larger than the skip ({left[level]})")
        s = _conv(s, ks_up[level], padding)
    for f in upsample:
        s = _conv(s * f, [3, 3], padding)
        if s < 1:
            raise ShapeError(f"size {size} vanishes in the final upsampling layers")
    return s


def nearest_valid_sizes(size: int, factors: list[int], ks_down: list[list[int]], padding: str,
                        valid) -> tuple[Optional[int], Optional[int]]:
    """The largest valid size below ``size`` and the smallest above (``None`` if there is none).

    Divisibility makes the valid sizes ``s(m) = P * m + C`` (``m`` the size entering the bottom
    level, ``P`` the total downsampling); the other conditions only ask for ``m`` large enough.
    """

    def s_of(m: int) -> int:
        for level in reversed(range(len(factors))):
            m = m * factors[level] + (0 if padding == "same" else sum(k - 1 for k in ks_down[level]))
        return m

    period, offset = math.prod(factors), s_of(0)
    m = (size - 1 - offset) // period
    below = s_of(m) if m >= 1 and valid(s_of(m)) else None
    m = max(1, (size - offset) // period + 1)
    for _ in range(10_000):
        if valid(s_of(m)):
            return below, s_of(m)
        m += 1
    return below, None


# --- the config ---------------------------------------------------------------------------------
@attrs.frozen
class CNNectomeUNetConfig(ArchitectureConfig):
    """The UNet of the CNNectome / CellMap projects: 2D or 3D, valid or same padding, optional
    attention gates and super-resolution (``upsample_factors``) output layers."""

    input_shape: Coordinate = help_field(
        "The spatial shape (voxels) of the training input.", converter=_coord_field
    )
    fmaps_out: int = help_field("Number of feature maps the UNet outputs.", validator=positive)
    fmaps_in: int = help_field("Number of input channels.", validator=positive)
    num_fmaps: int = help_field("Number of feature maps of the top level.", validator=positive)
    fmap_inc_factor: int = help_field(
        "Multiply the number of feature maps by this factor at each level.", validator=positive
    )
    downsample_factors: list[Coordinate] = help_field(
        "Downsample factors of the levels, e.g. [(2, 2, 2), (2, 2, 2)].", converter=_coords_field
    )
    kernel_size_down: Optional[list[list[Coordinate]]] = help_field(
        "Per level (len(downsample_factors) + 1 levels) the kernel sizes of the convolutions of "
        "the down path. Default: two 3-wide convolutions per level.",
        default=None,
        converter=_kernels_field,
    )
    kernel_size_up: Optional[list[list[Coordinate]]] = help_field(
        "Per level (len(downsample_factors) levels) the kernel sizes of the convolutions of the "
        "up path. Default: two 3-wide convolutions per level.",
        default=None,
        converter=_kernels_field,
    )
    eval_shape_increase: Optional[Coordinate] = help_field(
        "How much (voxels) to grow the input shape for prediction. Default: about a third of the "
        "input shape, rounded up to a multiple of the total downsampling.",
        default=None,
        converter=_coord_field,
    )
    upsample_factors: Optional[list[Coordinate]] = help_field(
        "Extra upsampling layers after the UNet: the output is super-resolved by their product.",
        default=None,
        converter=_coords_field,
    )
    constant_upsample: bool = help_field(
        "Upsample by repeating voxels (then a 1-wide convolution) instead of a transposed "
        "convolution.",
        default=True,
    )
    padding: str = help_field(
        "'valid' (output smaller than the input) or 'same' convolutions.",
        default="valid",
        validator=check(lambda v: v in ("valid", "same"), "must be 'valid' or 'same'"),
    )
    use_attention: bool = help_field("Use attention gates on the skip connections.", default=False)
    batch_norm: bool = help_field(
        "Use batch normalisation after each convolution.", default=False  # as dacapo-ml 0.3.5
    )

    def __attrs_post_init__(self) -> None:
        problem = self._problem()
        if problem is not None:
            raise ConfigError(problem)

    # --- derived values -------------------------------------------------------------------------
    @property
    def architecture_type(self):
        from .cnnectome_unet import CNNectomeUNet

        return CNNectomeUNet

    @property
    def dims(self) -> int:
        return self.input_shape.dims

    @property
    def num_levels(self) -> int:
        return len(self.downsample_factors) + 1

    @property
    def kernel_sizes_down(self) -> list[list[Coordinate]]:
        if self.kernel_size_down is not None:
            return self.kernel_size_down
        return [[Coordinate((3,) * self.dims)] * 2 for _ in range(self.num_levels)]

    @property
    def kernel_sizes_up(self) -> list[list[Coordinate]]:
        if self.kernel_size_up is not None:
            return self.kernel_size_up
        return [[Coordinate((3,) * self.dims)] * 2 for _ in range(self.num_levels - 1)]

    @property
    def total_downsample(self) -> Coordinate:
        total = Coordinate((1,) * self.dims)
        for f in self.downsample_factors:
            total = total * f
        return total

    @property
    def total_upsample(self) -> Coordinate:
        total = Coordinate((1,) * self.dims)
        for f in self.upsample_factors or []:
            total = total * f
        return total

    @property
    def eval_shape_increase_or_default(self) -> Coordinate:
        if self.eval_shape_increase is not None:
            return self.eval_shape_increase
        return Coordinate(
            -(-(s // 3) // p) * p for s, p in zip(self.input_shape, self.total_downsample)
        )

    @property
    def eval_input_shape(self) -> Coordinate:
        return self.input_shape + self.eval_shape_increase_or_default

    def _size_1d(self, size: int, d: int) -> int:
        return unet_output_size_1d(
            size,
            [f[d] for f in self.downsample_factors],
            [[k[d] for k in level] for level in self.kernel_sizes_down],
            [[k[d] for k in level] for level in self.kernel_sizes_up],
            [f[d] for f in self.upsample_factors or []],
            self.padding,
        )

    def _valid_1d(self, size: int, d: int) -> bool:
        try:
            self._size_1d(size, d)
            return True
        except ShapeError:
            return False

    def compute_output_shape(self, input_shape) -> Coordinate:
        """Exact spatial output shape for ``input_shape``; ``ShapeError`` (one line, with the
        nearest valid shapes) if the network cannot process it."""
        input_shape = _coord(input_shape)
        problem = self._shape_problem(input_shape)
        if problem is not None:
            raise ShapeError(
                f"input shape {tuple(input_shape)} is not valid for this UNet ({self.padding} "
                f"padding, downsample_factors {[tuple(f) for f in self.downsample_factors]}): {problem}"
            )
        return Coordinate(self._size_1d(s, d) for d, s in enumerate(input_shape))

    def _shape_problem(self, shape: Coordinate) -> Optional[str]:
        if shape.dims != self.dims:
            return f"it has {shape.dims} dimensions, the network {self.dims}"
        reasons = []
        for d, s in enumerate(shape):
            try:
                self._size_1d(s, d)
            except ShapeError as e:
                reasons.append(f"dim {d}: {e}")
        return f"{'; '.join(reasons)}; {self._suggest(shape)}" if reasons else None

    def _suggest(self, shape: Coordinate, offset: Optional[Coordinate] = None) -> str:
        lows, highs = [], []
        for d, s in enumerate(shape):
            if self._valid_1d(s, d):
                lows.append(s)
                highs.append(s)
                continue
            low, high = nearest_valid_sizes(
                s, [f[d] for f in self.downsample_factors], [[k[d] for k in ks] for ks in self.kernel_sizes_down],
                self.padding, lambda x: self._valid_1d(x, d),
            )
            lows.append(low)
            highs.append(high)
        options = [c for c in (lows, highs) if None not in c]
        if offset is not None:
            options = [[a - b for a, b in zip(c, offset)] for c in options]
            options = [c for c in options if min(c) >= 0]
        if not options:
            return "no valid shape nearby"
        return "nearest valid: " + " or ".join(str(tuple(c)) for c in options)

    # --- validation -----------------------------------------------------------------------------
    def _problem(self) -> Optional[str]:
        head = f"{type(self).__name__} {self.name!r}:"
        if self.input_shape is None:
            return f"{head} input_shape=None: give the training input shape, e.g. (132, 132, 132)"
        dims = self.dims
        if dims not in (2, 3):
            return f"{head} input_shape={tuple(self.input_shape)} must have 2 or 3 dimensions"
        if not self.downsample_factors:
            return f"{head} downsample_factors={self.downsample_factors!r} must list at least one factor"
        named = [("downsample_factors", self.downsample_factors), ("upsample_factors", self.upsample_factors or [])]
        for field, factors in named:
            for f in factors:
                if f.dims != dims or min(f) < 1:
                    return (
                        f"{head} {field}={[tuple(x) for x in factors]} must hold {dims}-dimensional "
                        "factors >= 1 (like input_shape)"
                    )
        for field, ks, n in (
            ("kernel_size_down", self.kernel_size_down, self.num_levels),
            ("kernel_size_up", self.kernel_size_up, self.num_levels - 1),
        ):
            if ks is None:
                continue
            shown = [[tuple(k) for k in level] for level in ks]
            if len(ks) != n:
                return f"{head} {field}={shown} must have {n} levels (one list of kernel sizes each)"
            if any(not level or any(k.dims != dims or min(k) < 1 for k in level) for level in ks):
                return f"{head} {field}={shown} must hold non-empty lists of {dims}-dimensional sizes >= 1"
        if min(self.input_shape) < 1:
            return f"{head} input_shape={tuple(self.input_shape)} must be positive"
        if self.eval_shape_increase is not None and (
            self.eval_shape_increase.dims != dims or min(self.eval_shape_increase) < 0
        ):
            return f"{head} eval_shape_increase={tuple(self.eval_shape_increase)} must be {dims} values >= 0"
        problem = self._shape_problem(self.input_shape)
        if problem is not None:
            return (
                f"{head} input_shape={tuple(self.input_shape)} does not fit downsample_factors="
                f"{[tuple(f) for f in self.downsample_factors]} with {self.padding} padding: {problem}"
            )
        if self._shape_problem(self.eval_input_shape) is not None:
            return (
                f"{head} eval_shape_increase={tuple(self.eval_shape_increase_or_default)} gives the "
                f"invalid eval input shape {tuple(self.eval_input_shape)}; "
                f"{self._suggest(self.eval_input_shape, self.input_shape)} (increase)"
            )
        return None

    def verify(self) -> tuple[bool, str]:
        problem = self._problem()
        if problem is not None:
            return False, problem
        out = self.compute_output_shape(self.input_shape)
        return True, (
            f"input {tuple(self.input_shape)} -> output {tuple(out)}, "
            f"eval input {tuple(self.eval_input_shape)} -> "
            f"output {tuple(self.compute_output_shape(self.eval_input_shape))}"
        )
