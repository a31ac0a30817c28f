"""A minimal task for tests and smoke runs."""

from __future__ import annotations

import attrs

from dacapo.config import check, help_field

from .task_config import TaskConfig


@attrs.frozen
class DummyTaskConfig(TaskConfig):
    """Predict ``gt != 0`` in each of ``embedding_dims`` identical channels (weighted MSE),
    threshold at ``detection_threshold``, binary metrics. For tests and smoke runs."""

    embedding_dims: int = help_field(
        "Number of output channels.", default=1,
        validator=check(
            lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 < v <= 64,
            "must be an int in 1 .. 64",
        ),
    )
    detection_threshold: float = help_field(
        "Threshold of the post-processing.", default=0.5,
        converter=lambda v: float(v) if isinstance(v, int) and not isinstance(v, bool) else v,
        validator=check(lambda v: isinstance(v, float) and v == v, "must be a number"),
    )

    @property
    def task_type(self):
        from .dummy_task import DummyTask

        return DummyTask

    def verify(self) -> tuple[bool, str]:
        return True, "DummyTaskConfig is valid"
