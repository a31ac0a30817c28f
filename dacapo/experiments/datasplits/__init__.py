from .datasplit_config import DataSplitConfig  # noqa: F401
from .dummy_datasplit_config import DummyDataSplitConfig  # noqa: F401
from .simple_datasplit_config import SimpleDataSplitConfig  # noqa: F401
from .train_validate_datasplit_config import TrainValidateDataSplitConfig  # noqa: F401
from dacapo.utils.lazy import lazy_exports

_LAZY = {
    "DataSplit": "dacapo.experiments.datasplits.datasplit",
    "TrainValidateDataSplit": "dacapo.experiments.datasplits.train_validate_datasplit",
    "DummyDataSplit": "dacapo.experiments.datasplits.dummy_datasplit",
    "DataSplitGenerator": "dacapo.experiments.datasplits.datasplit_generator",
    "DatasetSpec": "dacapo.experiments.datasplits.datasplit_generator",
    "DatasetType": "dacapo.experiments.datasplits.datasplit_generator",
    "SegmentationType": "dacapo.experiments.datasplits.datasplit_generator",
    "generate_dataspec_from_csv": "dacapo.experiments.datasplits.datasplit_generator",
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
