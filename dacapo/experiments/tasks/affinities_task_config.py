"""Config of the affinities task: affinities of instance labels (+ local shape descriptors)."""

from __future__ import annotations

from typing import Optional

import attrs
from funlib.geometry import Coordinate

from dacapo.config import ConfigError, check, help_field, positive

from .distance_task_config import _float
from ._sweep import sweep_field
from .post_processors.watershed_post_processor import DEFAULT_BIASES
from .task_config import TaskConfig

_is_fraction = check(lambda v: 0 < v <= 1, "must be in (0, 1]")
_is_bool = check(lambda v: isinstance(v, bool), "must be a bool")
_is_int = check(lambda v: isinstance(v, int) and not isinstance(v, bool), "must be an int")


def _neighborhood(value):
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        return value
    out = []
    for offset in value:
        if isinstance(offset, (str, bytes)) or not hasattr(offset, "__iter__"):
            return value  # the validator reports it
        offset = list(offset)
        if not all(isinstance(o, int) and not isinstance(o, bool) for o in offset):
            return value
        out.append(Coordinate(offset))
    return out


def _check_neighborhood(instance, attribute, value):
    ok = (
        isinstance(value, list)
        and len(value) > 0
        and all(isinstance(o, Coordinate) for o in value)
        and len({len(o) for o in value}) == 1
        and 1 <= len(value[0]) <= 3
        and all(any(c != 0 for c in o) for o in value)
        and len(set(value)) == len(value)
    )
    if not ok:
        raise ConfigError(
            f"{type(instance).__name__} {instance.name!r}: neighborhood={value!r} must be a "
            "non-empty list of distinct, non-zero integer offsets of one length (1 to 3)"
        )


def _clip_order(low: str, high: str):
    def validator(instance, attribute, value):
        if getattr(instance, low) > getattr(instance, high):
            raise ConfigError(
                f"{type(instance).__name__} {instance.name!r}: {low}={getattr(instance, low)!r} "
                f"must be <= {high}={getattr(instance, high)!r}"
            )

    return validator


@attrs.frozen
class AffinitiesTaskConfig(TaskConfig):
    """Predict affinities of gt instances: for each offset ``o`` of ``neighborhood`` (voxels), 1
    where a voxel and the voxel at ``+o`` carry the same non-zero instance id. Optionally also
    local shape descriptors (LSDs) of the instances as auxiliary channels that the head predicts
    (10 in 3D, 6 in 2D). Trained with a class-balanced weighted BCE on logits (sigmoid at
    evaluation); post-processed with a mutex watershed (``mwatershed``) over a sweep of biases;
    evaluated with VOI split/merge and adapted Rand error (lower is better). The gt is an
    instance-id array (0 = background)."""

    neighborhood: list[Coordinate] = help_field(
        "The offsets (voxels) of the affinities, e.g. [(1, 0, 0), (0, 1, 0), (0, 0, 1)]; longer "
        "offsets (e.g. (3, 0, 0)) help the mutex watershed.",
        converter=_neighborhood,
        validator=_check_neighborhood,
    )
    lsds: bool = help_field(
        "Whether to also predict local shape descriptors (auxiliary target).",
        default=False,
        validator=_is_bool,
    )
    num_lsd_voxels: int = help_field(
        "Sigma (in voxels) of the Gaussian window of the local shape descriptors.",
        default=10,
        validator=[_is_int, positive],
    )
    downsample_lsds: int = help_field(
        "Compute the LSDs on a grid this many times coarser (faster), then upsample.",
        default=1,
        validator=[_is_int, positive],
    )
    lsds_to_affs_weight_ratio: float = help_field(
        "With lsds: the weight of the LSD loss relative to the affinity loss.",
        default=1.0,
        converter=_float,
        validator=check(lambda v: v >= 0, "must be >= 0"),
    )
    grow_boundary_iterations: int = help_field(
        "Widen the boundaries between touching gt objects by this many voxels before computing "
        "the targets.",
        default=0,
        validator=[_is_int, check(lambda v: v >= 0, "must be >= 0")],
    )
    affs_weight_clipmin: float = help_field(
        "Minimum class frequency when balancing the affinity weights.",
        default=0.05, converter=_float, validator=_is_fraction,
    )
    affs_weight_clipmax: float = help_field(
        "Maximum class frequency when balancing the affinity weights.",
        default=0.95, converter=_float,
        validator=[_is_fraction, _clip_order("affs_weight_clipmin", "affs_weight_clipmax")],
    )
    lsd_weight_clipmin: float = help_field(
        "Minimum class frequency (object vs background) when balancing the LSD weights.",
        default=0.05, converter=_float, validator=_is_fraction,
    )
    lsd_weight_clipmax: float = help_field(
        "Maximum class frequency (object vs background) when balancing the LSD weights.",
        default=0.95, converter=_float,
        validator=[_is_fraction, _clip_order("lsd_weight_clipmin", "lsd_weight_clipmax")],
    )
    background_as_object: bool = help_field(
        "Whether to treat the background (id 0) as one more object (affinity 1 between "
        "background voxels; the watershed then labels it too).",
        default=False,
        validator=_is_bool,
    )
    background: bool = help_field(
        "Whether the segmentation has background (id 0). False (dense labels, e.g. neurons): "
        "every voxel gets a segment, voxels without any affinity above the bias (boundaries) "
        "joining the nearest fragment. True: those voxels are background 0. Post-processing "
        "only: the training targets do not change.",
        default=False,
        validator=_is_bool,
    )
    blockwise_context: Optional[int] = help_field(
        "Voxels that each block of a blockwise segmentation reads beyond the region it writes "
        "(along the axes the offsets span). None: twice the longest offset, at least 8. The "
        "mutex watershed is global: blockwise equals the whole-volume result where the context "
        "covers what decides each object (docs/concepts.md, 'Blockwise instance "
        "segmentation'); more context, closer (and slower).",
        default=None,
        validator=attrs.validators.optional([_is_int, check(lambda v: v >= 0, "must be >= 0")]),
    )
    biases: list[float] = sweep_field(
        "The post-processing sweep: the mutex watershed runs on 'affinity - bias' for each of "
        "these biases (a higher bias splits more).",
        DEFAULT_BIASES,
    )

    @property
    def task_type(self):
        from .affinities_task import AffinitiesTask

        return AffinitiesTask

    def verify(self) -> tuple[bool, str]:
        return True, "AffinitiesTaskConfig is valid"
