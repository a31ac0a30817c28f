"""Compute contexts: where blockwise workers run (``LocalTorch``, ``Bsub``, ``Slurm``).

``create_compute_context()`` builds the one named in the options
(``compute_context: {type: LocalTorch|Bsub|Slurm, config: {...}}`` in ``dacapo.yaml``, or the
``DACAPO_COMPUTE_CONTEXT`` environment variable as JSON).
"""

from __future__ import annotations

from typing import Any, Optional, Union

from .bsub import Bsub
from .compute_context import ComputeContext
from .local_torch import LocalTorch
from .slurm import Slurm

__all__ = ["ComputeContext", "LocalTorch", "Bsub", "Slurm", "create_compute_context"]

COMPUTE_CONTEXTS = {"LocalTorch": LocalTorch, "Bsub": Bsub, "Slurm": Slurm}


def from_dict(spec: Union[dict, ComputeContext, None]) -> ComputeContext:
    """``{type: NAME, config: {...}}`` → the compute context (``None`` → ``LocalTorch()``)."""
    if spec is None:
        return LocalTorch()
    if isinstance(spec, ComputeContext):
        return spec
    cls, config = context_class(spec)
    try:
        return cls(**config)
    except TypeError as exc:
        raise ValueError(f"compute_context {cls.__name__}: {exc}") from None


_EXAMPLE = "e.g. compute_context: {type: Slurm, config: {partition: gpu}}"


def context_class(spec: Any, where: str = "compute_context") -> tuple[type, dict]:
    """The class and keyword arguments named by ``{type: NAME, config: {...}}``."""
    from dacapo.config import ConfigError

    if not isinstance(spec, dict):
        raise ConfigError(f"{where} must be a mapping ({_EXAMPLE}), got {spec!r}")
    name = spec.get("type", "LocalTorch")
    if name not in COMPUTE_CONTEXTS:
        raise ConfigError(
            f"{where}: unknown type {name!r}; known: {', '.join(COMPUTE_CONTEXTS)} ({_EXAMPLE})"
        )
    config = spec.get("config") or {}
    if not isinstance(config, dict):
        raise ConfigError(f"{where} {name}: config must be a mapping ({_EXAMPLE}), got {config!r}")
    return COMPUTE_CONTEXTS[name], config


def create_compute_context(options=None) -> ComputeContext:
    """The compute context of the options (default: ``Options.instance()``)."""
    if options is None:
        from dacapo.options import Options

        options = Options.instance()
    return from_dict(options.compute_context)


def resolve(compute_context: Optional[Union[ComputeContext, dict]]) -> ComputeContext:
    """An explicit context, a ``{type, config}`` dict, or (``None``) the options' context."""
    if compute_context is None:
        return create_compute_context()
    return from_dict(compute_context)
