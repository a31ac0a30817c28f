"""What a blockwise run shows on the console: one progress bar per task that ends in ✔ only
when every block is done (daisy's own bar ticks an interrupted run as done), and the
scheduler's diagnostics (daisy's per-restart warnings and worker tracebacks, hundreds of
lines when workers keep failing) in a log file instead of on the terminal."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import threading
from pathlib import Path
from typing import Optional


class BlockProgress:
    """A daisy progress observer (``on_start`` / ``on_progress`` / ``on_finish``)."""

    def __init__(self, task_order: list[str], done_before: Optional[dict] = None):
        self.task_order = list(task_order)
        self.done_before = dict(done_before or {})  # task id -> blocks an earlier run did
        self.bars: dict = {}

    def _bar(self, task_id: str, state):
        if task_id not in self.bars:
            from tqdm import tqdm

            self.bars[task_id] = tqdm(total=int(state.total_block_count), desc=task_id,
                                      initial=self.done_before.get(task_id, 0), unit="block",
                                      dynamic_ncols=True, file=sys.stderr)
        return self.bars[task_id]

    def _ordered(self, states):
        return [(t, states[t]) for t in self.task_order if t in states]

    def on_start(self, states) -> None:
        for task_id, state in self._ordered(states):
            self._bar(task_id, state)

    def on_progress(self, states) -> None:
        for task_id, state in self._ordered(states):
            bar = self._bar(task_id, state)
            done = int(state.completed_count)  # (includes the blocks done by an earlier run)
            if done > bar.n:
                bar.update(done - bar.n)
            failed = int(state.failed_count) + int(state.orphaned_count)
            if failed:
                bar.set_postfix_str(f"{failed} failed", refresh=False)

    def on_finish(self, states) -> None:
        for task_id, state in self._ordered(states):
            bar = self._bar(task_id, state)
            done, total = int(state.completed_count), int(state.total_block_count)
            if done > bar.n:
                bar.update(done - bar.n)
            if done == total:
                mark = "✔"
            elif int(state.failed_count) or int(state.orphaned_count):
                mark = "✗"
            else:
                mark = "stopped"
            bar.set_description(f"{task_id} {mark}", refresh=True)
            bar.close()

    def close(self) -> None:
        for bar in self.bars.values():
            with contextlib.suppress(Exception):  # (its stream may be closed already)
                bar.close()


@contextlib.contextmanager
def scheduler_output_to(log_path: Optional[Path]):
    """While daisy runs: what is written to file descriptor 2 (daisy's Rust warnings, its
    ``daisy`` logger through handlers made before, worker output it relays) goes to
    ``log_path``; ``sys.stderr`` (progress bars, console lines) stays on the terminal. Does
    nothing without a path, at DEBUG level, when ``sys.stderr`` is not descriptor 2 or off the
    main thread (descriptor 2 is the whole process's)."""
    try:
        stderr_is_fd2 = sys.stderr is not None and sys.stderr.fileno() == 2
    except (AttributeError, ValueError, io.UnsupportedOperation):
        stderr_is_fd2 = False
    if (log_path is None or not stderr_is_fd2 or logging.getLogger().isEnabledFor(logging.DEBUG)
            or threading.current_thread() is not threading.main_thread()):
        yield
        return
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    terminal = os.dup(2)
    original = sys.stderr
    with open(log_path, "ab") as log:
        os.dup2(log.fileno(), 2)
    sys.stderr = io.TextIOWrapper(os.fdopen(os.dup(terminal), "wb", buffering=0),
                                  encoding=original.encoding or "utf-8",
                                  errors="backslashreplace", line_buffering=True,
                                  write_through=True)
    try:
        yield
    finally:
        try:
            sys.stderr.flush()
            sys.stderr.close()
        finally:
            sys.stderr = original
            with contextlib.suppress(Exception):
                original.flush()  # (into the log: written while it was there)
            os.dup2(terminal, 2)
            os.close(terminal)
