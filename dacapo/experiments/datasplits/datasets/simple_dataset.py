"""Runtime of ``SimpleDatasetConfig``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .arrays._fields import config_error
from .dataset import Dataset

_RAW_SCALE = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}


class SimpleDataset(Dataset):
    """Raw (normalised to [0, 1] by dtype), gt and optional mask of one container. Built from
    a ``SimpleDatasetConfig`` or, as in the original, from its fields:
    ``SimpleDataset(name="cell_a", path="data/train/cell_a.zarr")``."""

    def __init__(self, dataset_config=None, **fields):
        from .arrays import IntensitiesArrayConfig, ZarrArrayConfig
        from .simple_dataset_config import SimpleDatasetConfig

        if dataset_config is None:
            dataset_config = SimpleDatasetConfig(**fields)
        elif fields:
            raise TypeError("SimpleDataset takes a config or its fields, not both")
        config = dataset_config
        self.config = config
        self.name = config.name
        self.weight = config.weight
        path = Path(config.path).expanduser()
        if not path.exists():
            raise config_error(config, "path", path, "does not exist")

        raw_config = ZarrArrayConfig(f"{config.name}_raw", path, config.raw_name, mode="r")
        raw = raw_config.array("r")
        dtype = np.dtype(raw.dtype)
        if dtype in _RAW_SCALE:
            raw_config = IntensitiesArrayConfig(
                f"{config.name}_raw_normalised", raw_config, min=0.0, max=_RAW_SCALE[dtype]
            )
            raw = raw_config.array("r")
        elif not np.issubdtype(dtype, np.floating):
            raise config_error(
                config,
                "raw_name",
                repr(config.raw_name),
                f"has dtype {dtype}; expected uint8, uint16 or floats (normalise other types "
                "with an IntensitiesArrayConfig in a RawGTDatasetConfig)",
            )
        self.raw_config = raw_config
        self.raw = raw
        self.gt_config = ZarrArrayConfig(f"{config.name}_gt", path, config.gt_name, mode="r")
        self.gt = self.gt_config.array("r")
        self.mask_config = None
        self.mask = None
        if (path / config.mask_name).exists():
            self.mask_config = ZarrArrayConfig(f"{config.name}_mask", path, config.mask_name, mode="r")
            self.mask = self.mask_config.array("r")
            if not (np.issubdtype(self.mask.dtype, np.integer) or self.mask.dtype == np.bool_):
                raise config_error(
                    config,
                    "mask_name",
                    repr(config.mask_name),
                    f"has dtype {self.mask.dtype}; a mask must be integer (1 = valid)",
                )
        self.sample_points = None
