"""Modules that can be called like the function they are named after.

``dacapo.apply`` is both the module ``dacapo/apply.py`` (so ``import dacapo.apply`` and
``dacapo.apply.<helper>`` work) and, as in dacapo-ml 0.3.5, the ``apply`` function:
``dacapo.apply(run_name, ...)`` calls ``dacapo.apply.apply``.
"""

from __future__ import annotations

import sys
import types


class CallableModule(types.ModuleType):
    def _function(self):
        return getattr(self, self.__name__.rsplit(".", 1)[-1])

    def __call__(self, *args, **kwargs):
        return self._function()(*args, **kwargs)

    @property
    def __signature__(self):
        import inspect

        return inspect.signature(self._function())


def make_callable(module_name: str) -> None:
    """Make the module ``module_name`` (call with ``__name__``) callable as its namesake function."""
    sys.modules[module_name].__class__ = CallableModule
