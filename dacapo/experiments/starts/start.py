"""``Start``: initialise a model with another run's weights."""

from __future__ import annotations

import logging

from dacapo.config import ConfigError

from .start_config import StartConfig

logger = logging.getLogger(__name__)


class Start:
    def __init__(self, config: StartConfig):
        self.run = config.run
        self.criterion = config.criterion

    def resolve_iteration(self, weights_store) -> int:
        """The iteration of ``run`` that ``criterion`` names."""
        if isinstance(self.criterion, int):
            return self.criterion
        if self.criterion == "latest":
            iteration = weights_store.latest_iteration(self.run)
        else:
            iteration = weights_store.retrieve_best(self.run, None, self.criterion)
        if iteration is None:
            raise ConfigError(
                f"StartConfig: run {self.run!r} has no {self.criterion!r} checkpoint; train and "
                "validate it first, or start from an iteration number"
            )
        return int(iteration)

    def initialize_weights(self, model, weights_store=None) -> int:
        from dacapo.store.create_store import create_weights_store

        weights_store = weights_store or create_weights_store()
        iteration = self.resolve_iteration(weights_store)
        state = weights_store.retrieve_weights(self.run, iteration)["model"]
        own = model.state_dict()
        compatible = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
        skipped = sorted(set(state) - set(compatible))
        if not compatible:
            raise ConfigError(
                f"StartConfig: no parameter of run {self.run!r} fits this model's architecture"
            )
        model.load_state_dict(compatible, strict=False)
        if skipped:
            logger.warning("start from %s@%s: skipped parameters %s", self.run, iteration, skipped)
        logger.info("initialised weights from run %s, iteration %s", self.run, iteration)
        return iteration
