from .architecture_config import ArchitectureConfig  # noqa: F401
from .cnnectome_unet_config import CNNectomeUNetConfig  # noqa: F401
from .dummy_architecture_config import DummyArchitectureConfig  # noqa: F401

_LAZY = {
    "Architecture": "dacapo.experiments.architectures.architecture",
    "CNNectomeUNet": "dacapo.experiments.architectures.cnnectome_unet",
    "DummyArchitecture": "dacapo.experiments.architectures.dummy_architecture",
}


def __getattr__(name):
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
