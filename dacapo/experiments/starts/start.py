"""``Start``: initialise a model with another run's weights.

Parameters whose names and shapes match are copied. When the prediction heads differ (another
task, other channels), the head's output channels are matched by NAME: the rows of the head's
weight and bias for every channel that the source run's task also has are copied, the others
keep their fresh initialisation. The source channels come from the source run's stored config;
the new channels from ``channels`` (``initialize_weights(model, channels=task.channels)``) or
``model.channel_names``."""

from __future__ import annotations

import logging

from dacapo.config import ConfigError

from .start_config import StartConfig

logger = logging.getLogger(__name__)

HEAD_PREFIXES = ("prediction_head.",)


def _is_head(key: str, model) -> bool:
    if key.startswith(HEAD_PREFIXES):
        return True
    chain = getattr(model, "chain", None)
    if chain is not None and len(chain) > 0:
        return key.startswith(f"chain.{len(chain) - 1}.")
    return False


def source_channels(run_name: str):
    """The output channel names of run ``run_name`` (from its stored config), or None."""
    try:
        from dacapo.store.create_store import create_config_store

        task_config = create_config_store().retrieve_run_config(run_name).task_config
        return list(task_config.task_type(task_config).predictor.channels)
    except Exception as error:  # noqa: BLE001 - a start without names still loads the rest
        logger.warning("start from %s: cannot get its channel names (%s)", run_name, error)
        return None


def transfer_state(model, state: dict, source: list | None = None, target: list | None = None,
                   what: str = "start") -> list[str]:
    """Load ``state`` into ``model``: equal-shape parameters as they are, head parameters with
    other output channels row by row by channel name (``source``: names of the rows of
    ``state``'s head, ``target``: the model's). Returns the keys not (fully) loaded."""
    import torch

    own = model.state_dict()
    compatible = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    if source is not None and target is not None and list(source) != list(target):
        # same number of channels but other names or order: match the head too
        for key in list(compatible):
            if _is_head(key, model) and compatible[key].shape[:1] == (len(source),):
                del compatible[key]
    skipped = sorted(set(state) - set(compatible))
    if not compatible:
        raise ConfigError(f"{what}: no parameter fits this model's architecture")
    matched = []
    if source is not None and target is not None:
        pairs = [(target.index(c), source.index(c)) for c in target if c in source]
        for key in list(skipped):
            if key not in own or not _is_head(key, model):
                continue
            mine, theirs = own[key], state[key]
            if (
                mine.shape[:1] != (len(target),)
                or theirs.shape[:1] != (len(source),)
                or mine.shape[1:] != theirs.shape[1:]
            ):
                continue
            value = mine.clone()
            for i, j in pairs:
                value[i] = theirs[j].to(dtype=value.dtype)
            compatible[key] = value
            skipped.remove(key)
            matched.append(key)
    with torch.no_grad():
        model.load_state_dict(compatible, strict=False)
    if matched:
        names = [c for c in target if c in source]
        logger.info("%s: head channels %s copied by name (%s)", what, names, ", ".join(matched))
    if skipped:
        logger.warning("%s: skipped parameters %s", what, skipped)
    return skipped


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

    def initialize_weights(self, model, weights_store=None, channels=None) -> int:
        """Load the start weights into ``model``; ``channels``: the model's output channel
        names (default ``model.channel_names`` if set), to match heads by channel name."""
        from dacapo.store.create_store import create_weights_store

        weights_store = weights_store or create_weights_store()
        iteration = self.resolve_iteration(weights_store)
        state = weights_store.retrieve_weights(self.run, iteration)["model"]
        if channels is None:
            channels = getattr(model, "channel_names", None)
        source = source_channels(self.run) if channels is not None else None
        transfer_state(
            model, state, source, None if channels is None else list(channels),
            what=f"start from run {self.run!r} iteration {iteration}",
        )
        logger.info("initialised weights from run %s, iteration %s", self.run, iteration)
        return iteration


from dacapo.compat import removed_names  # noqa: E402

__getattr__ = removed_names(__name__)  # the names of dacapo-ml 0.3.5 that are gone
