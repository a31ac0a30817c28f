from .architecture_config import ArchitectureConfig  # noqa: F401
from .cnnectome_unet_config import CNNectomeUNetConfig  # noqa: F401
from .bioimageio_architecture_config import BioImageIOArchitectureConfig  # noqa: F401
from .dummy_architecture_config import DummyArchitectureConfig  # noqa: F401
from .torch_module_architecture_config import TorchModuleArchitectureConfig  # noqa: F401
from dacapo.utils.lazy import lazy_exports

_LAZY = {
    "Architecture": "dacapo.experiments.architectures.architecture",
    "CNNectomeUNet": "dacapo.experiments.architectures.cnnectome_unet",
    "DummyArchitecture": "dacapo.experiments.architectures.dummy_architecture",
    "BioImageIOArchitecture": "dacapo.experiments.architectures.bioimageio",
    "TorchModuleArchitecture": "dacapo.experiments.architectures.torch_module_architecture",
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
