"""DaCapo: train, validate and apply deep-learning models on large microscopy volumes.

Importing ``dacapo`` is cheap: heavy dependencies (torch, gunpowder, daisy) load on first use.
"""

from importlib import import_module
from typing import Any

__version__ = "0.1.0"
__version_info__ = tuple(int(i) for i in __version__.split("."))

# The entry points of the original API (``dacapo.train(...)``, ``dacapo.apply(...)``): their
# modules import numpy and funlib.geometry at most; torch and friends load inside the calls.
# Each is its module, callable as the function of the same name (so ``import dacapo.apply``
# still gives the module): see ``dacapo.utils.callable_module``.
from . import apply, predict, train, validate  # noqa: E402,F401
from .train import train_run  # noqa: E402,F401
from .validate import validate_run  # noqa: E402,F401

from .compat import install as _install_compat  # noqa: E402

_install_compat()  # dacapo-ml 0.3.5's moved and removed modules (dacapo.compat)

_LAZY = {
    "Options": ("dacapo.options", "Options"),
    "options": ("dacapo.options", None),
    # dacapo-ml 0.3.5's package attributes
    "experiments": ("dacapo.experiments", None),
    "predict_local": ("dacapo.predict_local", None),
    "run_blockwise": ("dacapo.blockwise.scheduler", "run_blockwise"),
    "segment_blockwise": ("dacapo.blockwise.scheduler", "segment_blockwise"),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'dacapo' has no attribute {name!r}")
    module, attr = _LAZY[name]
    value = import_module(module)
    return value if attr is None else getattr(value, attr)


def __dir__():
    return sorted(list(globals()) + list(_LAZY))
