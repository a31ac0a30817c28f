"""``dacapo ls``: the stored configs, and the runs with their progress and best scores."""

from __future__ import annotations

import logging
from typing import Optional

import attrs
import numpy as np

from dacapo.experiments.validation_iteration_scores import stack_scores

logger = logging.getLogger(__name__)


@attrs.frozen
class BestScore:
    dataset: str
    criterion: str
    value: float
    iteration: int


@attrs.frozen
class RunSummary:
    name: str
    num_iterations: int  # as planned now (``dacapo train --iterations`` may have changed it)
    trained: int  # the latest checkpoint (what a resumed training starts from)
    validated: list[int]  # iterations with validation scores
    best: list[BestScore]  # per validation dataset, by the evaluator's primary criterion
    problem: Optional[str] = None  # why the summary is incomplete
    training: Optional[int] = None  # the iteration a live training process has reached

    @property
    def status(self) -> str:
        if self.training is not None:
            return "training"
        if self.trained >= self.num_iterations:
            return "done"
        return "not started" if self.trained == 0 else "partial"

    @property
    def progress(self) -> str:
        if self.training is not None:
            return f"{self.training}/{self.num_iterations} (checkpoint {self.trained})"
        return f"{self.trained}/{self.num_iterations}"


def summarize_run(run_name: str, config_store=None, stats_store=None, weights_store=None) -> RunSummary:
    from dacapo.store.create_store import (
        create_config_store,
        create_stats_store,
        create_weights_store,
    )

    from dacapo.experiments import live_progress
    from dacapo.experiments.run_length import planned_iterations

    config = (config_store or create_config_store()).retrieve_run_config(run_name)
    trained = (weights_store or create_weights_store()).latest_iteration(run_name) or 0
    num_iterations = planned_iterations(run_name, config.num_iterations)
    live = live_progress.read(run_name)
    training = live.iteration if live is not None and live.alive else None
    scores = (stats_store or create_stats_store()).retrieve_validation_iteration_scores(run_name)
    validated = [s.iteration for s in scores]
    best, problem = [], None
    if scores:
        try:
            best = _best_scores(config, scores)
        except Exception as exc:  # a config that no longer builds (moved data, removed class)
            problem = f"scores not summarized: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
            logger.debug("summarizing run %s", run_name, exc_info=True)
    return RunSummary(run_name, num_iterations, trained, validated, best, problem, training)


def summarize_runs(run_names, config_store=None, stats_store=None, weights_store=None):
    """``(summaries, skipped)``: the runs that could be read, and ``(name, reason)`` for each
    that could not (an unreadable config or stats), so that one broken run hides no other."""
    summaries, skipped = [], []
    for name in run_names:
        try:
            summaries.append(summarize_run(name, config_store, stats_store, weights_store))
        except (ValueError, KeyError, OSError) as exc:
            text = str(exc.args[0] if isinstance(exc, KeyError) and exc.args else exc)
            skipped.append((name, text.splitlines()[0] if text else type(exc).__name__))
            logger.debug("listing run %s", name, exc_info=True)
    return summaries, skipped


def _best_scores(config, scores) -> list[BestScore]:
    task = config.task_config.task_type(config.task_config)
    evaluator = task.evaluator
    criterion = evaluator.criteria[0]
    names = dataset_names(config)
    # (it, dataset, setting, criterion), each iteration placed by name
    values = stack_scores(scores, names, list(evaluator.criteria))
    higher = evaluator.higher_is_better(criterion)
    best = []
    for d in range(values.shape[1]):
        column = values[:, d, :, 0]
        if np.all(np.isnan(column)):
            continue
        per_iteration = np.nanmax(column, axis=1) if higher else np.nanmin(column, axis=1)
        filled = np.where(np.isnan(per_iteration), -np.inf if higher else np.inf, per_iteration)
        index = int(np.argmax(filled) if higher else np.argmin(filled))
        name = names[d] if d < len(names) else f"dataset {d}"
        best.append(BestScore(name, criterion, float(per_iteration[index]), scores[index].iteration))
    return best


def dataset_names(config) -> list[str]:
    """Names of the validation datasets of a run config, in the order of its scores."""
    datasplit = config.datasplit_config
    validate = getattr(datasplit, "validate_configs", None)
    if validate is not None:
        return [d.name for d in validate]
    return [d.name for d in datasplit.datasplit_type(datasplit).validate]


def config_names(config_store=None) -> dict[str, list[str]]:
    from dacapo.store.create_store import create_config_store

    store = config_store or create_config_store()
    return {kind: sorted(store.names(kind)) for kind in store.kinds}


def format_runs(summaries: list[RunSummary]) -> list[str]:
    if not summaries:
        return ["no runs"]
    rows = [("RUN", "TRAINED", "STATUS", "VALIDATED", "BEST")]
    for s in summaries:
        best = "; ".join(f"{b.dataset} {b.criterion} {b.value:.4g} @{b.iteration}" for b in s.best)
        validated = f"{len(s.validated)} (last {s.validated[-1]})" if s.validated else "-"
        rows.append((s.name, s.progress, s.status, validated,
                     best or (s.problem or "-")))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[-1]
            for row in rows]


def format_configs(names: dict[str, list[str]]) -> list[str]:
    width = max(len(kind) for kind in names)
    return [f"{kind.ljust(width)}  ({len(found)}) {', '.join(found) if found else '-'}"
            for kind, found in names.items() if kind != "run"]
