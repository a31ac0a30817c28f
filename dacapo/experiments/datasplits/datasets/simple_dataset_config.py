from __future__ import annotations

from pathlib import Path

import attrs

from dacapo.config import ConfigError, help_field

from .arrays._fields import is_path, is_str, required, to_path
from .dataset_config import DatasetConfig


@attrs.frozen
class SimpleDatasetConfig(DatasetConfig):
    """A dataset by convention: one zarr/N5 container at ``path`` holding ``raw_name``,
    ``gt_name`` and, optionally, ``mask_name`` (missing: everything is valid).

    Raw is normalised to [0, 1] float32 by its dtype (uint8 / 255, uint16 / 65535; floats are
    used as they are; other integer types are refused: wrap them in an
    ``IntensitiesArrayConfig`` and use a ``RawGTDatasetConfig``). The mask must be integer."""

    path: Path = help_field(
        "The container (e.g. 'data/train/cell_a.zarr').",
        default=None,
        converter=to_path,
        validator=[required, is_path],
    )
    raw_name: str = help_field("The raw dataset inside the container.", default="raw", validator=is_str)
    gt_name: str = help_field(
        "The ground-truth dataset inside the container.", default="labels", validator=is_str
    )
    mask_name: str = help_field(
        "The optional mask dataset inside the container (1 = valid).", default="mask", validator=is_str
    )

    @property
    def dataset_type(self):
        from .simple_dataset import SimpleDataset

        return SimpleDataset

    def dataset(self):
        """The runtime ``SimpleDataset`` (arrays opened lazily, nothing read)."""
        return self.dataset_type(self)

    def verify(self) -> tuple[bool, str]:
        try:
            dataset = self.dataset()
        except ConfigError as exc:
            return False, f"{type(self).__name__} {self.name!r}: {exc}"
        mask = "no mask" if dataset.mask is None else f"mask {dataset.mask.dtype}"
        return True, (
            f"{type(self).__name__} {self.name!r}: raw {tuple(dataset.raw.voxel_size)} nm voxels, "
            f"gt {tuple(dataset.gt.voxel_size)} nm voxels, gt roi {dataset.gt.roi}, {mask}"
        )
