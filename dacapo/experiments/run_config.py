from __future__ import annotations

from typing import Optional

import attrs

from dacapo.config import ConfigBase, ConfigError, help_field, non_negative, positive, validate_name

from .architectures.architecture_config import ArchitectureConfig
from .datasplits.datasplit_config import DataSplitConfig
from .starts.start_config import StartConfig
from .tasks.task_config import TaskConfig
from .trainers.trainer_config import TrainerConfig


@attrs.frozen
class RunConfig(ConfigBase):
    """A run: one datasplit, task, architecture and trainer, trained for ``num_iterations``
    and validated every ``validation_interval`` iterations. Its runtime counterpart is
    ``dacapo.experiments.run.Run``."""

    task_config: TaskConfig = help_field("What to learn.")
    architecture_config: ArchitectureConfig = help_field("The network.")
    trainer_config: TrainerConfig = help_field("How to train.")
    datasplit_config: DataSplitConfig = help_field("The training and validation data.")
    name: str = help_field(
        "A unique name for this run (it names files and directories).",
        validator=lambda _c, _f, name: validate_name(name, "RunConfig"),
    )
    repetition: int = help_field("The repetition number of this run.", default=0)
    num_iterations: int = help_field(
        "Total number of training iterations.", default=100000, validator=positive
    )
    validation_interval: int = help_field(
        "Validate (and checkpoint) every this many iterations.", default=1000, validator=positive
    )
    start_config: Optional[StartConfig] = help_field(
        "Weights to start from (another run's checkpoint).", default=None
    )
    seed: Optional[int] = help_field(
        "Random seed of the run; None derives one from the name and repetition.",
        default=None,
        validator=non_negative,
    )

    def verify(self) -> tuple[bool, str]:
        """Each part verifies, then the data fits the task and the model (channels, and voxel
        sizes from raw through the model to gt and mask): opens the arrays and builds the task
        and model (no training). Training runs the same checks before it starts."""
        problem = self.part_problem()
        if problem is not None:
            return False, problem
        from .run import Run

        try:
            Run(self, load_starter_model=False).datasplit
        except ConfigError as exc:
            return False, str(exc)
        return True, f"RunConfig {self.name!r}: the task, model and data fit together"

    def part_problem(self) -> Optional[str]:
        """The first part (task, architecture, trainer, datasplit) that does not verify."""
        return self._problem_of(("task_config", "architecture_config", "trainer_config",
                                 "datasplit_config"))

    def config_problem(self) -> Optional[str]:
        """The first problem found without data or files: the checks of the task, architecture
        and trainer, unless a part's check reads files (``verify_reads_files``: pretrained
        weights, bioimage.io packages, importable modules). Storing a run runs these; what needs
        the data (the datasplit's arrays, voxel sizes through the model, channels) is checked
        by ``verify()`` and by training, on the machine that has the data."""
        return self._problem_of(("task_config", "architecture_config", "trainer_config"),
                                skip_file_checks=True)

    def _problem_of(self, fields, skip_file_checks: bool = False) -> Optional[str]:
        for field in fields:
            part = getattr(self, field)
            if skip_file_checks and getattr(part, "verify_reads_files", False):
                continue
            ok, message = part.verify()
            if not ok:
                return f"RunConfig {self.name!r}: {field}: {message}"
        return None
