"""Package attributes imported on first use, so that importing a config package does not import
torch, gunpowder or daisy."""

from __future__ import annotations

from importlib import import_module
from typing import Callable


def lazy_exports(package: str, exports: dict[str, str]) -> tuple[Callable, Callable]:
    """``(__getattr__, __dir__)`` for ``package``: ``exports`` maps a name to its module."""
    namespace = import_module(package).__dict__

    def __getattr__(name: str):
        if name in exports:
            return getattr(import_module(exports[name]), name)
        from dacapo.compat import removed_names  # dacapo-ml 0.3.5's names that are gone

        return removed_names(package)(name)

    def __dir__():
        return sorted(list(namespace) + list(exports))

    return __getattr__, __dir__
