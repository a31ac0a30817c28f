"""Base of the augment configs. Each augment config builds one gunpowder node with ``node``."""

from __future__ import annotations

from typing import ClassVar

import attrs

from dacapo.config import ConfigBase, ConfigError


@attrs.frozen
class AugmentConfig(ConfigBase):
    """Base of augment configs.

    ``node(raw_key, gt_key, mask_key)`` returns the gunpowder ``BatchFilter`` applying the
    augmentation. Intensity augments touch only ``raw_key``; spatial augments transform every
    array of the batch (raw, gt, mask) consistently, labels with nearest-neighbour interpolation.
    Config modules import gunpowder lazily, inside ``node``.
    """

    _abstract: ClassVar[bool] = True  # a family base: documents name one of its kinds

    def node(self, raw_key, gt_key=None, mask_key=None):
        raise self.kind_required("node")

    def inference_transform(self, raw):
        """What this augment does to raw at inference time: nothing for random augments; a
        deterministic intensity map (``IntensityScaleShift``) must be applied there too, or the
        model sees a different input range than it was trained on."""
        return raw


# --- attrs converters shared by the augment configs ----------------------------------------------
def _number(value, what="number"):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            import numpy as np

            if isinstance(value, np.generic) and not isinstance(value, np.bool_):
                return float(value)
        except ImportError:  # pragma: no cover
            pass
        raise ConfigError(f"expected a {what}, got {value!r}")
    return float(value)


def float_tuple(value):
    """A sequence of numbers → tuple of floats (tuples survive the converter round trip)."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ConfigError(f"expected a sequence of numbers, got {value!r}")
    return tuple(_number(v) for v in value)


def float_pair(value):
    pair = float_tuple(value)
    if len(pair) != 2:
        raise ConfigError(f"expected a (min, max) pair, got {value!r}")
    return pair


def to_float(value):
    return _number(value)


def opt_float(value):
    return None if value is None else _number(value)


def int_list_opt(value):
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ConfigError(f"expected a list of integers, got {value!r}")
    out = []
    for v in value:
        if isinstance(v, bool) or not float(v).is_integer():
            raise ConfigError(f"expected a list of integers, got {value!r}")
        out.append(int(v))
    return out


def float_list_opt(value):
    return None if value is None else list(float_tuple(value))


def probability_field():
    """``augmentation_probability``: the chance that an augment applies to a sample (gunpowder's
    ``p``), 1.0 by default as in dacapo-ml 0.3.5."""
    from dacapo.config import check, help_field

    return help_field(
        "Probability to apply this augmentation to a sample.",
        default=1.0,
        converter=to_float,
        validator=check(lambda v: 0.0 <= v <= 1.0, "must be in [0, 1]"),
    )
