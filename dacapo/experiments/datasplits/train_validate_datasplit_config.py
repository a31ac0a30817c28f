from __future__ import annotations

import attrs

from dacapo.config import check, help_field

from .datasets.arrays._fields import to_list
from .datasets.dataset_config import DatasetConfig
from .datasplit_config import DataSplitConfig

_is_dataset_list = check(
    lambda v: isinstance(v, list) and all(isinstance(d, DatasetConfig) for d in v),
    "must be a list of dataset configs",
)


@attrs.frozen
class TrainValidateDataSplitConfig(DataSplitConfig):
    """Explicit lists of training and validation datasets."""

    train_configs: list[DatasetConfig] = help_field(
        "Datasets to train on.", converter=to_list, validator=_is_dataset_list
    )
    validate_configs: list[DatasetConfig] = help_field(
        "Datasets to validate on.", converter=to_list, validator=_is_dataset_list
    )

    def __attrs_post_init__(self) -> None:
        from dacapo.config import ConfigError

        for field in ("train_configs", "validate_configs"):
            names = [d.name for d in getattr(self, field)]
            duplicates = sorted({n for n in names if names.count(n) > 1})
            if duplicates:
                raise ConfigError(
                    f"{type(self).__name__} {self.name!r}: {field} has duplicate dataset names {duplicates}"
                )

    @property
    def datasplit_type(self):
        from .train_validate_datasplit import TrainValidateDataSplit

        return TrainValidateDataSplit

    def datasplit(self):
        """The runtime ``TrainValidateDataSplit``."""
        return self.datasplit_type(self)

    def verify(self) -> tuple[bool, str]:
        messages = []
        for dataset in [*self.train_configs, *self.validate_configs]:
            ok, message = dataset.verify()
            if not ok:
                return False, f"{type(self).__name__} {self.name!r}: {message}"
            messages.append(message)
        return True, f"{type(self).__name__} {self.name!r}: {len(messages)} datasets ok"
