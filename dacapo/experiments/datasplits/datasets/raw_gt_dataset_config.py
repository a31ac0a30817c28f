from __future__ import annotations

from typing import Optional

import attrs
from funlib.geometry import Coordinate

from dacapo.config import ConfigError, help_field

from .arrays.array_config import ArrayConfig
from .arrays._fields import is_coordinate_list, is_instance, required, to_coordinate_list
from .dataset_config import DatasetConfig

_is_array_config = is_instance(ArrayConfig, "an array config")
_is_optional_array_config = is_instance(ArrayConfig, "an array config or None", optional=True)


@attrs.frozen
class RawGTDatasetConfig(DatasetConfig):
    """A dataset of raw data, ground truth and an optional mask (1 = annotated/valid).
    ``mask_config=None`` means everything inside the gt ROI is valid. ``sample_points`` (world
    units) restrict where training samples are centred."""

    raw_config: ArrayConfig = help_field(
        "The raw input array.", default=None, validator=[required, _is_array_config]
    )
    gt_config: ArrayConfig = help_field(
        "The ground-truth array.", default=None, validator=[required, _is_array_config]
    )
    mask_config: Optional[ArrayConfig] = help_field(
        "Where the ground truth is valid (uint8, 1 = annotated); None: everywhere in the gt.",
        default=None,
        validator=_is_optional_array_config,
    )
    sample_points: Optional[list[Coordinate]] = help_field(
        "Points (world units) around which to sample training batches; None: anywhere.",
        default=None,
        converter=to_coordinate_list,
        validator=is_coordinate_list,
    )

    @property
    def dataset_type(self):
        from .raw_gt_dataset import RawGTDataset

        return RawGTDataset

    def dataset(self):
        """The runtime ``RawGTDataset`` (arrays opened lazily, nothing read)."""
        return self.dataset_type(self)

    def verify(self) -> tuple[bool, str]:
        """Raw and gt (and mask) open, their voxel sizes are compatible (one divides the other
        on each axis, the mask's equals the gt's) and their ROIs overlap."""
        for field in ("raw_config", "gt_config", "mask_config"):
            config = getattr(self, field)
            if config is None:
                continue
            ok, message = config.verify()
            if not ok:
                return False, f"{type(self).__name__} {self.name!r}: {field}: {message}"
        try:
            raw = self.raw_config.array("r")
            gt = self.gt_config.array("r")
            mask = self.mask_config.array("r") if self.mask_config is not None else None
        except ConfigError as exc:
            return False, f"{type(self).__name__} {self.name!r}: {exc}"
        prefix = f"{type(self).__name__} {self.name!r}"
        if raw.voxel_size.dims != gt.voxel_size.dims:
            return False, (
                f"{prefix}: raw voxel size {tuple(raw.voxel_size)} and gt voxel size "
                f"{tuple(gt.voxel_size)} have different numbers of axes"
            )
        for r, g in zip(raw.voxel_size, gt.voxel_size):
            if r % g != 0 and g % r != 0:
                return False, (
                    f"{prefix}: raw voxel size {tuple(raw.voxel_size)} and gt voxel size "
                    f"{tuple(gt.voxel_size)} are incompatible (neither divides the other)"
                )
        if mask is not None and mask.voxel_size != gt.voxel_size:
            return False, (
                f"{prefix}: mask voxel size {tuple(mask.voxel_size)} differs from gt voxel size "
                f"{tuple(gt.voxel_size)}"
            )
        if raw.roi.intersect(gt.roi).empty:
            return False, f"{prefix}: raw roi {raw.roi} and gt roi {gt.roi} do not overlap"
        return True, (
            f"{prefix}: raw {tuple(raw.voxel_size)} nm voxels, gt {tuple(gt.voxel_size)} nm voxels, "
            f"gt roi {gt.roi}"
        )
