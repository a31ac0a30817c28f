"""Build a full ``TrainValidateDataSplitConfig`` from a list of (train|val, raw container, raw
dataset, gt container, gt dataset) rows, target classes and input/output resolutions.

The API follows the original DaCapo's ``DataSplitGenerator``::

    datasplit_config = DataSplitGenerator.generate_from_csv(
        "datasets.csv", input_resolution=(8, 8, 8), output_resolution=(8, 8, 8),
        targets=["mito"],
    ).compute()

For each row the generator

- picks the scale level of raw and gt closest to the requested resolution (a dataset may be
  an array or a multiscale group: OME-NGFF ``multiscales`` or arrays ``s0``, ``s1``, ...;
  levels that need no upsampling and the least downsampling are preferred) and resamples it
  with a ``ResampledArrayConfig`` where needed (raw: linear/averaging, gt: nearest);
- normalises raw to [0, 1] with an ``IntensitiesArrayConfig`` (``raw_min``/``raw_max``, by
  default the range of its integer dtype; float raw is used as it is);
- builds the ground truth (``segmentation_type="semantic"``) as one uint8 channel per target
  class, in one of three layouts:

  1. ``class_ids={"mito": [3, 4], "er": [16]}``: the gt dataset is one label array and each
     class is the set of its label ids (``[]``: any non-zero label), via a
     ``BinarizeArrayConfig``;
  2. one gt dataset per class, named in the gt dataset column as ``labels/[mito&er]``
     (``classes_separator_character``) or found as ``<gt dataset>/<target>`` for the
     ``targets``: each is binarised (non-zero = class) and the channels are concatenated
     (``ConcatArrayConfig``); classes a row lacks become zero channels, masked out by a mask
     of ``ConstantArrayConfig`` channels (1 for present classes, 0 for missing ones);
  3. a single target without ``class_ids``: the non-zero voxels of the gt label array.

  ``segmentation_type="instance"`` keeps the gt label ids (one target at most).

Relative container paths in a CSV are relative to the CSV file's directory. Every problem
(missing file or dataset, unreachable resolution, mismatched channels) is a one-line
``ConfigError`` naming the generator and the row.
"""

from __future__ import annotations

import csv
import logging
import math
import re
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Optional, Sequence, Union

from funlib.geometry import Coordinate, Roi

from dacapo.config import ConfigError
from dacapo.utils.paths import container_path, is_remote

from .datasets.arrays import (
    ArrayConfig,
    BinarizeArrayConfig,
    ConcatArrayConfig,
    ConstantArrayConfig,
    CropArrayConfig,
    IntensitiesArrayConfig,
    ResampledArrayConfig,
    ZarrArrayConfig,
)
from .datasets.raw_gt_dataset_config import RawGTDatasetConfig
from .train_validate_datasplit_config import TrainValidateDataSplitConfig

logger = logging.getLogger(__name__)

__all__ = [
    "DataSplitGenerator",
    "DatasetSpec",
    "DatasetType",
    "SegmentationType",
    "generate_dataspec_from_csv",
]


class CustomEnum(Enum):
    def __str__(self) -> str:
        return self.value


class SegmentationType(CustomEnum):
    semantic = "semantic"
    instance = "instance"


class DatasetType(CustomEnum):
    val = "val"
    train = "train"


_TYPE_NAMES = {
    "train": DatasetType.train,
    "training": DatasetType.train,
    "val": DatasetType.val,
    "validate": DatasetType.val,
    "validation": DatasetType.val,
}
_HEADER_NAMES = {"type", "dataset_type", "split", "usage", "kind"}


def _dataset_type(value: Union[str, DatasetType]) -> DatasetType:
    if isinstance(value, DatasetType):
        return value
    try:
        return _TYPE_NAMES[str(value).strip().lower()]
    except KeyError:
        raise ValueError(f"dataset type {value!r} is not 'train' or 'val'") from None


def _clean(text: str) -> str:
    """A config-name-safe version of ``text``."""
    return re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9_.\-]", "_", text)).strip("_.") or "x"


@dataclass(frozen=True)
class DatasetSpec:
    """One row: where raw and gt of a training or validation dataset are."""

    dataset_type: DatasetType
    raw_container: Path
    raw_dataset: str
    gt_container: Path
    gt_dataset: str
    row: Optional[int] = None  # the CSV line, for messages

    def __post_init__(self) -> None:
        object.__setattr__(self, "dataset_type", _dataset_type(self.dataset_type))
        object.__setattr__(self, "raw_container", container_path(self.raw_container))
        object.__setattr__(self, "gt_container", container_path(self.gt_container))
        object.__setattr__(self, "raw_dataset", str(self.raw_dataset))
        object.__setattr__(self, "gt_dataset", str(self.gt_dataset))

    def __str__(self) -> str:
        gt_dataset = re.sub(r"\[[^\]]*\]", "", self.gt_dataset)  # without a [class&list]
        return _clean(f"{self.raw_container.stem}_{gt_dataset}")


def read_csv_rows(
    csv_path: Union[str, Path], where: str, columns: tuple[str, ...], header_names=()
) -> tuple[Path, list[tuple[int, list[str]]]]:
    """The rows of a datasplit CSV with their line numbers (blank lines, ``#`` comments and a
    header row skipped; each row checked to have ``columns`` cells), and the CSV's directory,
    against which relative containers resolve."""
    csv_path = Path(csv_path).expanduser()
    if not csv_path.is_file():
        raise ConfigError(f"{where}: csv_path={csv_path} does not exist")
    rows = []
    with open(csv_path, newline="") as f:
        for line, row in enumerate(csv.reader(f), start=1):
            row = [cell.strip() for cell in row]
            if not any(row) or row[0].startswith("#"):
                continue
            if not rows and row[0].lower() in header_names:
                continue
            if len(row) != len(columns):
                raise ConfigError(
                    f"{where}: csv_path={csv_path} line {line}: expected {len(columns)} columns "
                    f"({', '.join(columns)}), got {len(row)}: {','.join(row)}"
                )
            rows.append((line, row))
    if not rows:
        raise ConfigError(f"{where}: csv_path={csv_path} has no dataset rows")
    return csv_path.parent.resolve(), rows


def resolve_container(container: str, base: Path) -> Path:
    """A CSV's container: a URL (s3://, gs://, https://...), or a path (relative to ``base``)."""
    path = container_path(container)
    return path if is_remote(path) or path.is_absolute() else base / path


def generate_dataspec_from_csv(csv_path: Union[str, Path]) -> list[DatasetSpec]:
    """Rows ``train|val, raw container, raw dataset, gt container, gt dataset``; relative
    containers are relative to the CSV's directory."""
    where = "DataSplitGenerator"
    base, rows = read_csv_rows(
        csv_path, where,
        ("train|val", "raw container", "raw dataset", "gt container", "gt dataset"),
        _HEADER_NAMES,
    )
    specs = []
    for line, row in rows:
        try:
            kind = _dataset_type(row[0])
        except ValueError as exc:
            raise ConfigError(f"{where}: csv_path={csv_path} line {line}: {exc}") from None
        specs.append(
            DatasetSpec(
                kind, resolve_container(row[1], base), row[2],
                resolve_container(row[3], base), row[4], row=line,
            )
        )
    return specs


def _coordinate(value: Any) -> Optional[Coordinate]:
    if value is None:
        return None
    if isinstance(value, int):
        return None
    try:
        items = list(value)
    except TypeError:
        return None
    if not items or any(isinstance(v, bool) or not float(v).is_integer() or v <= 0 for v in items):
        return None
    return Coordinate(int(v) for v in items)


def _resolution_text(resolution: Coordinate) -> str:
    values = list(resolution)
    return f"{values[0]}nm" if len(set(values)) == 1 else "x".join(str(v) for v in values) + "nm"


@dataclass
class _Level:
    config: ZarrArrayConfig
    voxel_size: Coordinate
    up: Coordinate
    down: Coordinate
    dtype: Any
    channel_shape: tuple
    spatial_dims: int


class DataSplitGenerator:
    """Generate a ``TrainValidateDataSplitConfig`` from dataset rows (see the module doc)."""

    def __init__(
        self,
        name: str,
        datasets: Sequence[DatasetSpec],
        input_resolution: Union[Sequence[int], Coordinate],
        output_resolution: Union[Sequence[int], Coordinate],
        targets: Optional[Sequence[str]] = None,
        segmentation_type: Union[str, SegmentationType] = "semantic",
        max_gt_downsample: int = 32,
        max_gt_upsample: int = 4,
        max_raw_training_downsample: int = 16,
        max_raw_training_upsample: int = 2,
        max_raw_validation_downsample: int = 8,
        max_raw_validation_upsample: int = 2,
        min_training_volume_size: int = 8_000,
        raw_min: Optional[float] = None,
        raw_max: Optional[float] = None,
        classes_separator_character: str = "&",
        max_validation_volume_size: Optional[int] = None,
        binarize_gt: bool = True,
        class_ids: Optional[dict[str, Sequence[int]]] = None,
        snap_to_grid: Optional[Sequence[int]] = None,
    ):
        self.name = name
        prefix = f"DataSplitGenerator {name!r}"
        self.datasets = list(datasets)
        if not self.datasets:
            raise ConfigError(f"{prefix}: datasets=[] is empty")
        for field, value in (("input_resolution", input_resolution), ("output_resolution", output_resolution)):
            if _coordinate(value) is None:
                raise ConfigError(f"{prefix}: {field}={value!r} must be a sequence of positive integers")
        self.input_resolution = _coordinate(input_resolution)
        self.output_resolution = _coordinate(output_resolution)
        if self.input_resolution.dims != self.output_resolution.dims:
            raise ConfigError(
                f"{prefix}: input_resolution={tuple(self.input_resolution)} and output_resolution="
                f"{tuple(self.output_resolution)} have different numbers of axes"
            )
        if targets is not None:
            if isinstance(targets, str):
                targets = [targets]
            targets = list(targets)
            if not targets or not all(isinstance(t, str) and t for t in targets) or len(set(targets)) != len(targets):
                raise ConfigError(f"{prefix}: targets={targets!r} must be distinct, non-empty class names")
        self.targets = targets
        try:
            self.segmentation_type = SegmentationType(str(segmentation_type))
        except ValueError:
            raise ConfigError(
                f"{prefix}: segmentation_type={segmentation_type!r} must be 'semantic' or 'instance'"
            ) from None
        if class_ids is not None:
            ok = isinstance(class_ids, dict) and class_ids and all(
                isinstance(k, str) and k and not isinstance(v, (str, bytes))
                and all(isinstance(i, int) and not isinstance(i, bool) for i in v)
                for k, v in class_ids.items()
            )
            if not ok:
                raise ConfigError(
                    f"{prefix}: class_ids={class_ids!r} must map class names to lists of label ids"
                )
            class_ids = {k: [int(i) for i in v] for k, v in class_ids.items()}
            missing = [t for t in targets or [] if t not in class_ids]
            if missing:
                raise ConfigError(f"{prefix}: targets {missing} have no entry in class_ids={class_ids!r}")
        self.class_ids = class_ids
        if self.segmentation_type == SegmentationType.instance and targets is not None and len(targets) > 1:
            raise ConfigError(f"{prefix}: instance segmentation takes one target, got targets={targets!r}")
        self.max_gt_downsample = max_gt_downsample
        self.max_gt_upsample = max_gt_upsample
        self.max_raw_training_downsample = max_raw_training_downsample
        self.max_raw_training_upsample = max_raw_training_upsample
        self.max_raw_validation_downsample = max_raw_validation_downsample
        self.max_raw_validation_upsample = max_raw_validation_upsample
        self.min_training_volume_size = min_training_volume_size
        if raw_min is not None and raw_max is not None and not raw_max > raw_min:
            raise ConfigError(f"{prefix}: raw_max={raw_max!r} must be > raw_min={raw_min!r}")
        self.raw_min = raw_min
        self.raw_max = raw_max
        self.classes_separator_character = classes_separator_character
        self.max_validation_volume_size = max_validation_volume_size
        self.binarize_gt = binarize_gt
        if snap_to_grid is not None:
            grid = _coordinate(snap_to_grid)
            if grid is None or grid.dims != self.output_resolution.dims:
                raise ConfigError(
                    f"{prefix}: snap_to_grid={snap_to_grid!r} must be positive integers, one per axis"
                )
            self.snap_to_grid = grid
        else:
            self.snap_to_grid = Coordinate(
                math.lcm(a, b) for a, b in zip(self.input_resolution, self.output_resolution)
            )

    # --- constructors ----------------------------------------------------------------------------
    @staticmethod
    def generate_from_csv(
        csv_path: Union[str, Path],
        input_resolution: Union[Sequence[int], Coordinate],
        output_resolution: Union[Sequence[int], Coordinate],
        name: Optional[str] = None,
        **kwargs: Any,
    ) -> "DataSplitGenerator":
        """A generator for the rows of ``csv_path`` (named after the file by default)."""
        csv_path = Path(csv_path)
        if name is None:
            name = csv_path.stem
        return DataSplitGenerator(
            name, generate_dataspec_from_csv(csv_path), input_resolution, output_resolution, **kwargs
        )

    # --- naming ----------------------------------------------------------------------------------
    @property
    def class_name(self) -> str:
        if self.targets is not None:
            return "_".join(self.targets)
        if self.class_ids is not None:
            return "_".join(self.class_ids)
        classes: list[str] = []
        for spec in self.datasets:
            for c in self._bracket_classes(spec.gt_dataset)[1]:
                if c not in classes:
                    classes.append(c)
        return "_".join(classes) or "gt"

    def _bracket_classes(self, gt_dataset: str) -> tuple[Optional[str], list[str]]:
        match = re.search(r"\[([^\]]*)\]", gt_dataset)
        if match is None:
            return None, []
        classes = [c.strip() for c in match.group(1).split(self.classes_separator_character) if c.strip()]
        return match.group(0), classes

    def check_class_name(self, gt_dataset: str) -> tuple[list[str], list[str]]:
        """For ``labels/[mito&er]``: ``(["labels/mito", "labels/er"], ["mito", "er"])``."""
        token, classes = self._bracket_classes(gt_dataset)
        if token is None:
            return [gt_dataset], [gt_dataset.rstrip("/").rsplit("/", 1)[-1]]
        return [gt_dataset.replace(token, c) for c in classes], classes

    # --- the datasplit ---------------------------------------------------------------------------
    def compute(self) -> TrainValidateDataSplitConfig:
        """The ``TrainValidateDataSplitConfig`` (arrays are opened to read metadata only)."""
        train, validate = [], []
        names: set[str] = set()
        self._raw_channels: Optional[tuple] = None
        for spec in self.datasets:
            raw_config, gt_config, mask_config, classes = self._dataset_arrays(spec)
            gt_roi = self._open(spec, "gt", gt_config).roi
            if spec.dataset_type == DatasetType.val and self.max_validation_volume_size:
                gt_config, mask_config, gt_roi = self._limit_validation(spec, gt_config, mask_config, gt_roi)
            voxels = gt_roi.size // math.prod(self.output_resolution)
            if spec.dataset_type == DatasetType.train and voxels < self.min_training_volume_size:
                logger.warning(
                    "%s: skipping %s: its gt has %d voxels < min_training_volume_size=%d",
                    self.name, spec, voxels, self.min_training_volume_size,
                )
                continue
            name = f"{spec}_{'_'.join(classes)}_{_resolution_text(self.output_resolution)}"
            unique, i = name, 2
            while unique in names:
                unique, i = f"{name}_{i}", i + 1
            names.add(unique)
            dataset = RawGTDatasetConfig(
                name=unique, weight=1, raw_config=raw_config, gt_config=gt_config, mask_config=mask_config
            )
            (train if spec.dataset_type == DatasetType.train else validate).append(dataset)
        if not train and not validate:
            raise ConfigError(f"DataSplitGenerator {self.name!r}: no datasets left")
        return TrainValidateDataSplitConfig(
            name=_clean(
                f"{self.name}_{self.segmentation_type}_{self.class_name}_"
                f"{_resolution_text(self.output_resolution)}"
            ),
            train_configs=train,
            validate_configs=validate,
        )

    # --- helpers ---------------------------------------------------------------------------------
    def _prefix(self, spec: DatasetSpec) -> str:
        where = f"{spec.dataset_type} row {spec.row}" if spec.row is not None else f"{spec.dataset_type} dataset {spec}"
        return f"DataSplitGenerator {self.name!r}: {where}"

    def _error(self, spec: DatasetSpec, message: str) -> ConfigError:
        return ConfigError(f"{self._prefix(spec)}: {message}")

    def _open(self, spec: DatasetSpec, what: str, config: ArrayConfig):
        try:
            return config.array("r")
        except ConfigError as exc:
            raise self._error(spec, f"{what}: {exc}") from None

    def _exists(self, container: Path, dataset: str) -> bool:
        from .datasets.arrays.zarr_array import normalize_dataset, open_store

        import zarr

        if not container.exists():
            return False
        store = open_store(container)
        path = normalize_dataset(dataset)
        return bool(path) and (
            zarr.storage.contains_array(store, path) or zarr.storage.contains_group(store, path)
        )

    def _level(
        self,
        spec: DatasetSpec,
        what: str,
        container: Path,
        dataset: str,
        resolution: Coordinate,
        max_up: int,
        max_down: int,
        name: str,
    ) -> _Level:
        """The scale level of ``container/dataset`` to resample to ``resolution``."""
        import zarr

        from .datasets.arrays.zarr_array import is_n5, multiscale_levels, normalize_dataset, open_store

        container = container_path(container)
        if not container.exists():
            raise self._error(spec, f"{what} container {container} does not exist")
        store = open_store(container)
        path = normalize_dataset(dataset)
        if path and zarr.storage.contains_array(store, path):
            paths = [path]
        elif path and zarr.storage.contains_group(store, path):
            paths = [p for p, _ in multiscale_levels(store, path, is_n5(container))]
            if not paths:
                raise self._error(
                    spec, f"{what} dataset {dataset!r} in {container} is a group without scale levels"
                )
        else:
            raise self._error(spec, f"{what} dataset {dataset!r} not found in {container}")
        candidates, seen = [], []
        for level_path in paths:
            config = ZarrArrayConfig(name=name, file_name=container, dataset=level_path, mode="r")
            array = self._open(spec, what, config)
            voxel_size = Coordinate(array.voxel_size)
            seen.append(f"{level_path} {tuple(voxel_size)}")
            if voxel_size.dims != resolution.dims:
                raise self._error(
                    spec,
                    f"{what} {container}/{level_path} has {voxel_size.dims} spatial axes, the "
                    f"resolution {tuple(resolution)} has {resolution.dims}",
                )
            up, down = [], []
            for v, r in zip(voxel_size, resolution):
                if r % v == 0:
                    up.append(1)
                    down.append(r // v)
                elif v % r == 0:
                    up.append(v // r)
                    down.append(1)
                else:
                    break
            else:
                if max(up) <= max_up and max(down) <= max_down:
                    candidates.append(
                        _Level(
                            config=config,
                            voxel_size=voxel_size,
                            up=Coordinate(up),
                            down=Coordinate(down),
                            dtype=array.dtype,
                            channel_shape=tuple(array.shape[: array.channel_dims]),
                            spatial_dims=array.spatial_dims,
                        )
                    )
        if not candidates:
            raise self._error(
                spec,
                f"{what} {container}/{dataset} cannot be resampled to {tuple(resolution)} nm by "
                f"integer factors (at most {max_up}x up, {max_down}x down); voxel sizes: {', '.join(seen)}",
            )
        candidates.sort(key=lambda c: (max(c.up) > 1, math.prod(c.down), math.prod(c.up)))
        best = candidates[0]
        best.config = ZarrArrayConfig(
            name=name,
            file_name=container,
            dataset=best.config.dataset,
            snap_to_grid=self.snap_to_grid,
            mode="r",
        )
        return best

    @staticmethod
    def _resampled(level: _Level, name: str, interp_order: Union[bool, int]) -> ArrayConfig:
        if all(u == 1 for u in level.up) and all(d == 1 for d in level.down):
            return level.config
        return ResampledArrayConfig(
            name=name,
            source_array_config=level.config,
            upsample=Coordinate(u if u > 1 else 0 for u in level.up),
            downsample=Coordinate(d if d > 1 else 0 for d in level.down),
            interp_order=interp_order,
        )

    def _raw(self, spec: DatasetSpec) -> ArrayConfig:
        import numpy as np

        train = spec.dataset_type == DatasetType.train
        base = _clean(f"{spec.raw_container.stem}_{spec.raw_dataset}")
        level = self._level(
            spec,
            "raw",
            spec.raw_container,
            spec.raw_dataset,
            self.input_resolution,
            self.max_raw_training_upsample if train else self.max_raw_validation_upsample,
            self.max_raw_training_downsample if train else self.max_raw_validation_downsample,
            base,
        )
        if self._raw_channels is None:
            self._raw_channels = (level.channel_shape, str(spec))
        elif level.channel_shape != self._raw_channels[0]:
            raise self._error(
                spec,
                f"raw {spec.raw_container}/{spec.raw_dataset} has channels {level.channel_shape}, "
                f"the raw of {self._raw_channels[1]} has {self._raw_channels[0]}",
            )
        config = self._resampled(level, f"{base}_{_resolution_text(self.input_resolution)}", True)
        dtype = np.dtype(level.dtype)
        low, high = self.raw_min, self.raw_max
        if np.issubdtype(dtype, np.integer):
            info = np.iinfo(dtype)
            low = float(info.min) if low is None else low
            high = float(info.max) if high is None else high
        elif dtype == np.bool_:
            low = 0.0 if low is None else low
            high = 1.0 if high is None else high
        if low is None or high is None:  # float raw without explicit range: used as it is
            return config
        if not high > low:
            raise self._error(spec, f"raw range [{low}, {high}] is empty (set raw_min/raw_max)")
        return IntensitiesArrayConfig(
            name=f"{base}_normalised", source_array_config=config, min=float(low), max=float(high)
        )

    def _gt_level(self, spec: DatasetSpec, dataset: str, name: str) -> _Level:
        level = self._level(
            spec,
            "gt",
            spec.gt_container,
            dataset,
            self.output_resolution,
            self.max_gt_upsample,
            self.max_gt_downsample,
            name,
        )
        if level.channel_shape:
            raise self._error(
                spec,
                f"gt {spec.gt_container}/{dataset} has channel axes (shape {level.channel_shape} + "
                "spatial); expected a label array",
            )
        return level

    def _dataset_arrays(self, spec: DatasetSpec):
        """``(raw_config, gt_config, mask_config, class names)`` of one row."""
        raw_config = self._raw(spec)
        gt_container = container_path(spec.gt_container)
        if not gt_container.exists():
            raise self._error(spec, f"gt container {gt_container} does not exist")
        res = _resolution_text(self.output_resolution)
        # which layout: per-class datasets, or one label array
        token, bracket_classes = self._bracket_classes(spec.gt_dataset)
        base = _clean(f"{spec.gt_container.stem}_{spec.gt_dataset.replace(token or '[]', '')}")
        per_class: Optional[dict[str, str]] = None
        if token is not None:
            per_class = {c: spec.gt_dataset.replace(token, c) for c in bracket_classes}
        elif self.class_ids is None and self.targets is not None:
            found = {
                t: f"{spec.gt_dataset.rstrip('/')}/{t}"
                for t in self.targets
                if self._exists(gt_container, f"{spec.gt_dataset.rstrip('/')}/{t}")
            }
            if found:
                per_class = found

        if per_class is not None:
            targets = self.targets if self.targets is not None else list(per_class)
            present = [t for t in targets if t in per_class and self._exists(gt_container, per_class[t])]
            if not present:
                raise self._error(
                    spec,
                    f"none of the targets {targets} is in gt {gt_container}/{spec.gt_dataset} "
                    f"(classes named: {sorted(per_class)})",
                )
            levels = {
                t: self._gt_level(spec, per_class[t], _clean(f"{base}_{t}"))
                for t in present
            }
            if self.segmentation_type == SegmentationType.instance:
                if len(targets) != 1:
                    raise self._error(spec, f"instance segmentation takes one class, got {targets}")
                t = targets[0]
                return raw_config, self._resampled(levels[t], f"{base}_{t}_{res}", False), None, targets
            arrays: dict[str, ArrayConfig] = {}
            for t in present:
                source = self._resampled(levels[t], _clean(f"{base}_{t}_{res}"), False)
                if self.binarize_gt:
                    source = BinarizeArrayConfig(
                        name=_clean(f"{base}_{t}_{res}_binarized"),
                        source_array_config=source,
                        groupings=[(t, [])],
                    )
                arrays[t] = source
            missing = [t for t in targets if t not in arrays]
            first = arrays[present[0]]
            if len(targets) == 1 and not missing and self.binarize_gt:
                return raw_config, first, None, targets
            zeros = ConstantArrayConfig(name=_clean(f"{base}_zeros_{res}"), source_array_config=first, constant=0)
            gt_config = ConcatArrayConfig(
                name=_clean(f"{base}_{'_'.join(targets)}_{res}"),
                channels=targets,
                source_array_configs=arrays,
                default_config=zeros if missing else None,
            )
            mask_config = None
            if missing:
                mask_config = ConcatArrayConfig(
                    name=_clean(f"{base}_{'_'.join(targets)}_{res}_mask"),
                    channels=targets,
                    source_array_configs={
                        t: ConstantArrayConfig(
                            name=_clean(f"{base}_{t}_{res}_annotated"), source_array_config=a, constant=1
                        )
                        for t, a in arrays.items()
                    },
                    default_config=zeros,
                )
            return raw_config, gt_config, mask_config, targets

        # one label array
        level = self._gt_level(spec, spec.gt_dataset, base)
        labels = self._resampled(level, _clean(f"{base}_{res}"), False)
        if self.segmentation_type == SegmentationType.instance:
            targets = self.targets or [spec.gt_dataset.rstrip("/").rsplit("/", 1)[-1]]
            return raw_config, labels, None, targets
        if self.class_ids is not None:
            targets = self.targets if self.targets is not None else list(self.class_ids)
            groupings = [(t, list(self.class_ids[t])) for t in targets]
        elif self.targets is not None and len(self.targets) == 1:
            targets = list(self.targets)
            groupings = [(targets[0], [])]
        else:
            raise self._error(
                spec,
                f"gt {gt_container}/{spec.gt_dataset} is one label array: give class_ids "
                "(class -> label ids), a single target, or per-class datasets "
                f"(e.g. '{spec.gt_dataset}/[a{self.classes_separator_character}b]')",
            )
        gt_config = BinarizeArrayConfig(
            name=_clean(f"{base}_{'_'.join(targets)}_{res}"),
            source_array_config=labels,
            groupings=groupings,
        )
        return raw_config, gt_config, None, targets

    def _limit_validation(self, spec, gt_config, mask_config, gt_roi: Roi):
        """Crop validation gt (and mask) to a centred ROI of at most
        ``max_validation_volume_size`` voxels."""
        voxel_size = self.output_resolution
        shape = gt_roi.shape / voxel_size
        size = math.prod(shape)
        limit = int(self.max_validation_volume_size)
        if size <= limit:
            return gt_config, mask_config, gt_roi
        factor = (limit / size) ** (1.0 / len(shape))
        new_shape = Coordinate(max(1, min(s, int(s * factor))) for s in shape)
        begin = gt_roi.begin + ((shape - new_shape) // 2) * voxel_size
        roi = Roi(begin, new_shape * voxel_size)
        gt_config = CropArrayConfig(name=f"{gt_config.name}_cropped", source_array_config=gt_config, roi=roi)
        if mask_config is not None:
            mask_config = CropArrayConfig(
                name=f"{mask_config.name}_cropped", source_array_config=mask_config, roi=roi
            )
        return gt_config, mask_config, roi


from dacapo.compat import removed_names  # noqa: E402

__getattr__ = removed_names(__name__)  # the names of dacapo-ml 0.3.5 that are gone
