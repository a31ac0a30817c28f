"""Tasks: what to learn (targets, weights, model head), the loss, the post-processing sweep and
the evaluation. Configs import light; the runtime classes load lazily (torch, edt)."""

from .affinities_task_config import AffinitiesTaskConfig  # noqa: F401
from .distance_task_config import DistanceTaskConfig  # noqa: F401
from .dummy_task_config import DummyTaskConfig  # noqa: F401
from .hot_distance_task_config import HotDistanceTaskConfig  # noqa: F401
from .inner_distance_task_config import InnerDistanceTaskConfig  # noqa: F401
from .one_hot_task_config import OneHotTaskConfig  # noqa: F401
from .pretrained_task_config import PretrainedTaskConfig  # noqa: F401
from .task_config import TaskConfig  # noqa: F401
from dacapo.utils.lazy import lazy_exports

_LAZY = {
    "Task": "dacapo.experiments.tasks.task",
    "DistanceTask": "dacapo.experiments.tasks.distance_task",
    "OneHotTask": "dacapo.experiments.tasks.one_hot_task",
    "AffinitiesTask": "dacapo.experiments.tasks.affinities_task",
    "InnerDistanceTask": "dacapo.experiments.tasks.inner_distance_task",
    "HotDistanceTask": "dacapo.experiments.tasks.hot_distance_task",
    "PretrainedTask": "dacapo.experiments.tasks.pretrained_task",
    "DummyTask": "dacapo.experiments.tasks.dummy_task",
}

__all__ = [
    "TaskConfig",
    "DistanceTaskConfig",
    "OneHotTaskConfig",
    "AffinitiesTaskConfig",
    "InnerDistanceTaskConfig",
    "HotDistanceTaskConfig",
    "PretrainedTaskConfig",
    "DummyTaskConfig",
    *_LAZY,
]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
