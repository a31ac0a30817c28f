from .dataset_config import DatasetConfig  # noqa: F401
from .dummy_dataset_config import DummyDatasetConfig  # noqa: F401
from .raw_gt_dataset_config import RawGTDatasetConfig  # noqa: F401
from .simple_dataset_config import SimpleDatasetConfig  # noqa: F401
from dacapo.utils.lazy import lazy_exports

_LAZY = {
    "Dataset": "dacapo.experiments.datasplits.datasets.dataset",
    "DummyDataset": "dacapo.experiments.datasplits.datasets.dummy_dataset",
    "RawGTDataset": "dacapo.experiments.datasplits.datasets.raw_gt_dataset",
    "SimpleDataset": "dacapo.experiments.datasplits.datasets.simple_dataset",
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
