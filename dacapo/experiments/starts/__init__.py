from .cosem_start_config import CosemStartConfig  # noqa: F401
from .start_config import StartConfig  # noqa: F401
