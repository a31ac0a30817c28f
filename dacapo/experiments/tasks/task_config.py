from __future__ import annotations

import attrs

from dacapo.config import ConfigBase, help_field


@attrs.frozen
class TaskConfig(ConfigBase):
    """Base of task configs; ``task_type(config)`` builds the runtime ``Task`` (predictor, loss,
    post-processor, evaluator)."""

    name: str = help_field("A unique name for this task.")

    @property
    def task_type(self):
        raise NotImplementedError(f"{type(self).__name__}.task_type")
