"""Config of a task whose model starts from stored weights."""

from __future__ import annotations

from pathlib import Path

import attrs

from dacapo.config import ConfigError, check, help_field
from dacapo.utils.paths import is_local_path, to_path

from .task_config import TaskConfig


def _check_sub_task(instance, attribute, value):
    if not isinstance(value, TaskConfig):
        raise ConfigError(
            f"{type(instance).__name__} {instance.name!r}: sub_task_config={value!r} must be a "
            "task config"
        )


@attrs.frozen
class PretrainedTaskConfig(TaskConfig):
    """``sub_task_config`` (targets, loss, post-processing, evaluation) with a model whose
    weights are loaded from ``weights`` when the model is created: a file written by
    ``torch.save`` holding a model state dict, or a dict with it under ``"model"`` (a DaCapo
    checkpoint). The architecture must match the weights."""

    verify_reads_files = True  # the weights: checked where they are (training), not when stored

    sub_task_config: TaskConfig = help_field(
        "The task to perform.", validator=_check_sub_task
    )
    weights: Path = help_field(
        "Path of the weights to load into the model.",
        converter=to_path,
        validator=check(is_local_path, "must be a local path"),
    )

    @property
    def task_type(self):
        from .pretrained_task import PretrainedTask

        return PretrainedTask

    def verify(self) -> tuple[bool, str]:
        if not self.weights.exists():
            return False, f"PretrainedTaskConfig {self.name!r}: weights {self.weights} not found"
        return self.sub_task_config.verify()
