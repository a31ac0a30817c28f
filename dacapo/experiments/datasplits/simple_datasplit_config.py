from __future__ import annotations

import re
from pathlib import Path

import attrs

from dacapo.config import ConfigError, help_field
from dacapo.compat import original_default

from .datasets.arrays._fields import is_path, is_str, required, to_path
from .datasplit_config import DataSplitConfig

_CONTAINER_SUFFIXES = (".zarr", ".n5")
_MAX_DEPTH = 4


def _is_array_dir(path: Path) -> bool:
    return (path / ".zarray").exists() or (
        (path / "attributes.json").exists() and any(path.glob("[0-9]*"))
    )


@attrs.frozen
class SimpleDataSplitConfig(DataSplitConfig):
    """A datasplit by convention over configuration::

        <path>/<train_group_name>/<name>.zarr/{raw, labels[, mask]}
        <path>/<validate_group_name>/<name>.zarr/{raw, labels[, mask]}

    Every container (zarr or N5, at any depth up to 4 below the group directory) holding a
    ``raw_name`` dataset becomes a ``SimpleDatasetConfig`` named after the container (its
    path below the group directory without suffix, ``/`` replaced by ``_``). A group
    directory that is itself a container holding ``raw_name`` is one dataset. The datasets are
    found when the datasplit is built (``train_configs`` / ``validate_configs``), so
    containers added later are picked up. The original DaCapo's default validation group
    was ``test``: set ``validate_group_name="test"`` for that layout."""

    path: Path = help_field(
        "The directory holding the train and validate groups.",
        default=None,
        converter=to_path,
        validator=[required, is_path],
    )
    train_group_name: str = help_field(
        "The directory (below path) of the training containers.", default="train", validator=is_str
    )
    validate_group_name: str = help_field(
        "The directory (below path) of the validation containers.",
        default="validate",
        validator=[is_str, original_default("SimpleDataSplitConfig", "test", "validation containers are looked up in 'validate'")],
    )
    raw_name: str = help_field("The raw dataset in each container.", default="raw", validator=is_str)
    gt_name: str = help_field(
        "The ground-truth dataset in each container.", default="labels", validator=is_str
    )
    mask_name: str = help_field(
        "The optional mask dataset in each container (1 = valid).", default="mask", validator=is_str
    )

    # --- discovery -----------------------------------------------------------------------------
    def get_paths(self, group_name: str) -> list[Path]:
        """The containers of ``group_name`` holding a ``raw_name`` dataset, sorted."""
        root = Path(self.path).expanduser()
        prefix = f"{type(self).__name__} {self.name!r}"
        if not root.is_dir():
            raise ConfigError(f"{prefix}: path={root} is not a directory")
        group = root / group_name
        if not group.is_dir():
            raise ConfigError(
                f"{prefix}: path={root} has no {group_name!r} directory (expected "
                f"{root}/{group_name}/<name>.zarr/{self.raw_name})"
            )
        if (group / self.raw_name).exists():
            return [group]
        found: list[Path] = []

        def walk(directory: Path, depth: int) -> None:
            for child in sorted(p for p in directory.iterdir() if p.is_dir()):
                if (child / self.raw_name).exists():
                    found.append(child)
                elif depth < _MAX_DEPTH and not _is_array_dir(child):
                    walk(child, depth + 1)

        walk(group, 1)
        if not found:
            raise ConfigError(
                f"{prefix}: no container with a {self.raw_name!r} dataset found in {group} "
                f"(expected {group}/<name>.zarr/{self.raw_name})"
            )
        return found

    def _dataset_name(self, group: Path, container: Path) -> str:
        if container == group:
            name = container.name
        else:
            name = str(container.relative_to(group))
        for suffix in _CONTAINER_SUFFIXES:
            if name.lower().endswith(suffix):
                name = name[: -len(suffix)]
        return re.sub(r"[^A-Za-z0-9_.\-+=@]", "_", name) or "dataset"

    def _dataset_configs(self, group_name: str) -> list:
        from .datasets.simple_dataset_config import SimpleDatasetConfig

        group = Path(self.path).expanduser() / group_name
        return [
            SimpleDatasetConfig(
                name=self._dataset_name(group, container),
                path=container,
                raw_name=self.raw_name,
                gt_name=self.gt_name,
                mask_name=self.mask_name,
            )
            for container in self.get_paths(group_name)
        ]

    @property
    def train_configs(self) -> list:
        """``SimpleDatasetConfig``s of the training containers (found now)."""
        return self._dataset_configs(self.train_group_name)

    @property
    def validate_configs(self) -> list:
        """``SimpleDatasetConfig``s of the validation containers (found now)."""
        return self._dataset_configs(self.validate_group_name)

    # the original's names
    train = train_configs
    validate = validate_configs

    def to_train_validate(self):
        """The datasplit as an explicit ``TrainValidateDataSplitConfig`` (the datasets found now)."""
        from .train_validate_datasplit_config import TrainValidateDataSplitConfig

        return TrainValidateDataSplitConfig(self.name, self.train_configs, self.validate_configs)

    @property
    def datasplit_type(self):
        from .train_validate_datasplit import TrainValidateDataSplit

        return TrainValidateDataSplit

    def datasplit(self):
        """The runtime datasplit (``train`` / ``validate`` lists of ``SimpleDataset``s)."""
        return self.datasplit_type(self)

    def verify(self) -> tuple[bool, str]:
        try:
            datasets = [*self.train_configs, *self.validate_configs]
        except ConfigError as exc:
            return False, str(exc)
        for dataset in datasets:
            ok, message = dataset.verify()
            if not ok:
                return False, f"{type(self).__name__} {self.name!r}: {message}"
        return True, f"{type(self).__name__} {self.name!r}: {len(datasets)} datasets ok"
