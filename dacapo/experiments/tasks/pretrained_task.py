"""A task whose model is loaded from stored weights."""

from __future__ import annotations

from dacapo.config import ConfigError

from .task import Task


class _PretrainedPredictor:
    """The sub-task's predictor, whose ``create_model`` also loads the weights."""

    def __init__(self, predictor, weights):
        self._predictor = predictor
        self._weights = weights

    def __getattr__(self, name):
        return getattr(self._predictor, name)

    def create_model(self, architecture):
        from dacapo.utils.checkpoints import CheckpointError, load_checkpoint

        model = self._predictor.create_model(architecture)
        try:
            state = load_checkpoint(self._weights)
        except (OSError, CheckpointError) as error:
            raise ConfigError(f"PretrainedTaskConfig: cannot read weights: {error}") from None
        if isinstance(state, dict) and isinstance(state.get("model"), dict):
            state = state["model"]
        try:
            model.load_state_dict(state)
        except RuntimeError as error:
            first = str(error).strip().splitlines()[0]
            raise ConfigError(
                f"PretrainedTaskConfig: weights {self._weights} do not fit this model: {first}"
            ) from None
        return model


class PretrainedTask(Task):
    def __init__(self, task_config):
        self.name = task_config.name
        self.config = task_config
        self.sub_task = task_config.sub_task_config.task_type(task_config.sub_task_config)
        self.predictor = _PretrainedPredictor(self.sub_task.predictor, task_config.weights)
        self.loss = self.sub_task.loss
        self.post_processor = self.sub_task.post_processor
        self.evaluator = self.sub_task.evaluator
