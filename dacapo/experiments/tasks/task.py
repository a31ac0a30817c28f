"""Runtime base of the tasks: a predictor, a loss, a post-processor and an evaluator."""

from __future__ import annotations

from abc import ABC


class Task(ABC):
    """What to learn and how to judge it. Subclasses set, in ``__init__(task_config)``:

    - ``predictor``: the model head, targets and weights (``Predictor``);
    - ``loss``: compares prediction and target under weights (``Loss``);
    - ``post_processor``: turns predictions into outputs, with a parameter sweep
      (``PostProcessor``);
    - ``evaluator``: scores outputs against gt (``Evaluator``).
    """

    predictor = None
    loss = None
    post_processor = None
    evaluator = None

    @property
    def parameters(self) -> list:
        """The post-processing parameters of the sweep (``PostProcessorParameters``)."""
        return list(self.post_processor.enumerate_parameters())

    @property
    def evaluation_scores(self):
        """Empty scores of this task's evaluator: gives the criteria and their properties."""
        return self.evaluator.score

    @property
    def channels(self) -> list[str]:
        return list(self.predictor.channels)

    def create_model(self, architecture):
        """The model: ``architecture`` followed by the predictor's head."""
        return self.predictor.create_model(architecture)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({getattr(self, 'name', '?')!r})"
