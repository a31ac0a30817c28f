from __future__ import annotations

from typing import ClassVar

import attrs

from dacapo.config import ConfigBase, help_field


@attrs.frozen
class TaskConfig(ConfigBase):
    """Base of task configs; ``task_type(config)`` builds the runtime ``Task`` (predictor, loss,
    post-processor, evaluator)."""

    _abstract: ClassVar[bool] = True  # a family base: documents name one of its kinds

    name: str = help_field("A unique name for this task.")

    @property
    def task_type(self):
        raise self.kind_required("task_type")
