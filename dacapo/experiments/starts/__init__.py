from dacapo.utils.lazy import lazy_exports

from .cosem_start_config import CosemStartConfig  # noqa: F401
from .start_config import StartConfig  # noqa: F401

__getattr__, __dir__ = lazy_exports(
    __name__,
    {"Start": "dacapo.experiments.starts.start", "CosemStart": "dacapo.experiments.starts.cosem_start"},
)
