from .start_config import StartConfig  # noqa: F401
