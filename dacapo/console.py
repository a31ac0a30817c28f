"""What DaCapo tells the person running it: resume, device, progress, validation results and
the end of training, at the default log level.

Messages go to the ``dacapo.console`` logger. The CLI shows them as plain lines on stderr
(``configure``); so does a Python program that has not configured logging (as tqdm's bar
showed before); one that has, sees them where its handlers send INFO records. Training progress is a tqdm bar
on a terminal and, where stderr is not one (SLURM/LSF logs, pipes), a plain line every
``interval`` seconds and at each checkpoint instead of tqdm's carriage-return updates."""

from __future__ import annotations

import logging
import sys
import time
from collections import deque
from typing import Optional

import numpy as np

logger = logging.getLogger("dacapo.console")

DEFAULT_INTERVAL = 60.0  # seconds between plain progress lines
LIVE_INTERVAL = 5.0  # seconds between updates of the run's progress.json (for dacapo ls)


class _StderrHandler(logging.Handler):
    """Writes to the ``sys.stderr`` of the moment (click's test runner swaps it), through
    ``tqdm.write`` so that a progress bar on the terminal is redrawn below the line."""

    def emit(self, record):
        try:
            from tqdm import tqdm

            tqdm.write(self.format(record), file=sys.stderr)
        except Exception:
            self.handleError(record)


def configure(log_level: str) -> None:
    """Show console messages as bare lines on stderr unless ``log_level`` is ERROR."""
    for handler in list(logger.handlers):
        if isinstance(handler, _StderrHandler):
            logger.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.propagate = False
    level = logging.getLevelName(log_level.upper())
    logger.setLevel(logging.INFO if level <= logging.WARNING else level)


def _ensure_shown() -> None:
    if not logger.hasHandlers():  # nothing configured (no CLI, no logging setup): plain lines
        configure("WARNING")


def say(message: str, *args) -> None:
    _ensure_shown()
    logger.info(message, *args)


def warn(message: str, *args) -> None:
    """A quiet trap worth knowing about (shown whatever the console level, unless ERROR)."""
    _ensure_shown()
    logger.warning("warning: " + message, *args)


def interactive(stream=None) -> bool:
    stream = stream if stream is not None else sys.stderr
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


class TrainingProgress:
    """Progress of one training process: a bar on a terminal, else plain periodic lines; also
    keeps the run's live progress (``dacapo.experiments.live_progress``) for ``dacapo ls``."""

    def __init__(self, run_name: str, total: int, initial: int,
                 interval: float = DEFAULT_INTERVAL, stream=None, enabled: bool = True):
        self.enabled = enabled  # False: a data-parallel rank other than 0 (shows nothing)
        self.run_name = run_name
        self.total = total
        self.done = initial
        self.checkpointed = initial
        self.interval = interval
        self.recent = deque(maxlen=50)  # (loss, seconds, data seconds) of the last iterations
        self.learning_rate = None
        self.bar = None
        if enabled and interactive(stream):
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=initial, desc=f"train {run_name}", unit="it",
                            dynamic_ncols=True, file=stream)
        now = time.monotonic()
        self.last_line = now
        self.last_live = now - LIVE_INTERVAL  # the first update writes it

    def __enter__(self) -> TrainingProgress:
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        self.close()
        if exc_type is KeyboardInterrupt:
            say("run %s interrupted at iteration %d; its latest checkpoint is %d, from which "
                "dacapo train -r %s resumes", self.run_name, self.done, self.checkpointed,
                self.run_name)

    def update(self, loss: float, seconds: float, data_seconds: float,
               learning_rate: Optional[float] = None) -> None:
        self.done += 1
        if not self.enabled:
            return
        self.recent.append((loss, seconds, data_seconds))
        self.learning_rate = learning_rate
        now = time.monotonic()
        if self.bar is not None:
            self.bar.set_postfix(loss=f"{loss:.4g}", data=f"{data_seconds:.2f}s")
            self.bar.update(1)
        elif now - self.last_line >= self.interval:
            self.line()
        if now - self.last_live >= LIVE_INTERVAL:
            self._write_live(now)

    def checkpoint(self) -> None:
        """A checkpoint was stored: a plain line (off a terminal) and fresh live progress."""
        self.checkpointed = self.done
        if not self.enabled:
            return
        if self.bar is None:
            self.line()
        self._write_live(time.monotonic())

    def line(self) -> None:
        self.last_line = time.monotonic()
        if not self.recent:
            return
        losses, seconds, data = (np.asarray(v, dtype=float) for v in zip(*self.recent))
        per_iteration = float(seconds.mean())
        parts = [f"train {self.run_name}: iteration {self.done}/{self.total}",
                 f"loss {losses[-1]:.4g} (mean of last {losses.size}: {losses.mean():.4g})",
                 f"{per_iteration:.3g} s/it (data {data.mean():.2g} s/it)"]
        if self.learning_rate is not None:
            parts.append(f"lr {self.learning_rate:.3g}")
        if self.done < self.total:
            parts.append(f"{_duration(per_iteration * (self.total - self.done))} left")
        say(", ".join(parts))

    def _write_live(self, now: float, running: bool = True) -> None:
        from dacapo.experiments import live_progress

        self.last_live = now
        try:
            live_progress.write(self.run_name, self.done, self.total, running)
        except OSError as exc:  # progress display must never stop training
            logging.getLogger(__name__).debug("live progress of %s not written: %s",
                                              self.run_name, exc)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if self.enabled:
            self._write_live(time.monotonic(), running=False)


def validation_summary(run_name: str, config, iteration: int, stats_store=None) -> Optional[str]:
    """One line: per validation dataset, the best value over the post-processing parameters of
    each criterion at ``iteration``, ``*`` marking a new best (better than every other stored
    iteration). ``None`` when the run has no scores for ``iteration``."""
    from dacapo.experiments.validation_iteration_scores import stack_scores
    from dacapo.listing import dataset_names
    from dacapo.store.create_store import create_stats_store

    scores = (stats_store or create_stats_store()).retrieve_validation_iteration_scores(run_name)
    iterations = [s.iteration for s in scores]
    if iteration not in iterations:
        return None
    evaluator = config.task_config.task_type(config.task_config).evaluator
    criteria = list(evaluator.criteria)
    names = dataset_names(config)
    # (it, dataset, setting, criterion), each iteration placed by name
    values = stack_scores(scores, names, criteria)
    current = iterations.index(iteration)
    others = [i for i in range(len(iterations)) if i != current]
    parts, any_new = [], False
    for d in range(values.shape[1]):
        cells = []
        for c, criterion in _shown(criteria):
            higher = evaluator.higher_is_better(criterion)
            best = _best(values[:, d, :, c], higher)  # per iteration
            value = best[current]
            if np.isnan(value):
                cells.append(f"{criterion} nan")
                continue
            previous = best[others]
            previous = previous[~np.isnan(previous)]
            new = previous.size == 0 or (value > previous.max() if higher else value < previous.min())
            any_new |= new
            cells.append(f"{criterion} {value:.4g}{'*' if new else ''}")
        name = names[d] if d < len(names) else f"dataset {d}"
        parts.append(f"{name}: {', '.join(cells)}")
    note = " (* new best)" if any_new else ""
    return f"validation {run_name} @{iteration}: {' | '.join(parts)}{note}"


def _shown(criteria: list[str], most: int = 4) -> list[tuple[int, str]]:
    """The criteria a one-line summary shows: per-class criteria (``<class>__<metric>``) of the
    primary criterion's metric, else the first ``most``."""
    metric = criteria[0].rpartition("__")[2]
    if "__" in criteria[0]:
        return [(c, name) for c, name in enumerate(criteria) if name.rpartition("__")[2] == metric]
    return list(enumerate(criteria[:most]))


def _best(values: np.ndarray, higher: bool) -> np.ndarray:
    """Best over the parameter axis of (iterations, parameters), NaN where all are NaN."""
    with np.errstate(all="ignore"):
        filled = np.where(np.isnan(values), -np.inf if higher else np.inf, values)
        best = filled.max(axis=1) if higher else filled.min(axis=1)
    return np.where(np.all(np.isnan(values), axis=1), np.nan, best)
