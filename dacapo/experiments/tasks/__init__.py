"""Tasks: what to learn (targets, weights, model head), the loss, the post-processing sweep and
the evaluation. Configs import light; the runtime classes load lazily (torch, edt)."""

from .distance_task_config import DistanceTaskConfig  # noqa: F401
from .task_config import TaskConfig  # noqa: F401

_LAZY = {
    "Task": "dacapo.experiments.tasks.task",
    "DistanceTask": "dacapo.experiments.tasks.distance_task",
}

__all__ = ["TaskConfig", "DistanceTaskConfig", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_LAZY))
