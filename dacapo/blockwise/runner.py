"""Run ``BlockwiseTask``s with daisy, in the way the compute context says.

- ``LocalTorch`` with one worker (and ``distribute_workers`` False): daisy's serial mode, in
  this process; each task's ``setup`` runs once and its resident objects (the model) are reused.
- ``LocalTorch`` otherwise: daisy spawns one subprocess per worker; each runs
  ``worker_loop`` (``setup`` once, then ``daisy.Client`` blocks until none is left).
- ``Bsub`` / ``Slurm``: each daisy worker slot launches
  ``python -m dacapo.blockwise.worker SPEC`` through ``compute_context.execute`` (``bsub -K``,
  ``sbatch --wait`` or ``srun``), with ``DAISY_CONTEXT`` (the scheduler's address) and the
  DaCapo options in its environment; the job connects back and runs ``worker_loop``.

Completed blocks are recorded in each task's ``Bookkeeping`` and skipped on a rerun (daisy's
``skip_mask``), so a job that crashed or was killed resumes where it stopped.
"""

from __future__ import annotations

import itertools
import logging
import os
import sys
import time
import uuid
import warnings
from pathlib import Path
from typing import Optional, Sequence

import attrs

from dacapo.utils.faults import fault_point

from .bookkeeping import index_name
from .progress import BlockProgress, scheduler_output_to
from .task import BlockwiseTask, WorkerContext

logger = logging.getLogger(__name__)


class BlockwiseError(RuntimeError):
    pass


#: Seconds a block may take before its worker is killed and the block retried, when a task sets
#: no ``timeout`` (daisy always has one; its default, 600 s, is short for big models on CPUs).
DEFAULT_BLOCK_TIMEOUT = 6 * 3600.0


@attrs.define
class TaskSummary:
    task_id: str
    total: int
    skipped: int  # done by an earlier run
    completed: int  # done by this run
    failed: int


@attrs.define
class RunSummary:
    run_id: str
    tasks: dict
    seconds: float

    def __getitem__(self, task_id: str) -> TaskSummary:
        return self.tasks[task_id]


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:8]


def all_tasks(tasks: Sequence[BlockwiseTask]) -> list[BlockwiseTask]:
    """``tasks`` and their upstream tasks, upstream first, each once."""
    ordered: list[BlockwiseTask] = []
    seen: set[int] = set()

    def visit(task: BlockwiseTask) -> None:
        if id(task) in seen:
            return
        seen.add(id(task))
        for upstream in task.upstream_tasks:
            visit(upstream)
        ordered.append(task)

    for task in tasks:
        visit(task)
    ids = [t.task_id for t in ordered]
    if len(set(ids)) != len(ids):
        raise ValueError(f"task ids must be unique, got {ids}")
    return ordered


def fingerprint_of(task: BlockwiseTask, cache: dict) -> dict:
    """The task's fingerprint including those of its upstream tasks."""
    if id(task) not in cache:
        fingerprint = dict(task.fingerprint())
        fingerprint["upstream"] = [fingerprint_of(u, cache) for u in task.upstream_tasks]
        cache[id(task)] = fingerprint
    return cache[id(task)]


# --- worker side ----------------------------------------------------------------------------------
def worker_loop(task: BlockwiseTask, worker: WorkerContext) -> int:
    """Take blocks from the daisy scheduler (``DAISY_CONTEXT``) until none is left; returns
    the number of blocks processed."""
    import daisy

    if worker.num_threads and (task.uses_torch or "torch" in sys.modules):
        import torch

        torch.set_num_threads(int(worker.num_threads))
    from .ownership import worker_lock

    with worker_lock(None if task.bookkeeping is None else task.bookkeeping.directory):
        client = daisy.Client()
        task.setup(worker)
        count = 0
        try:
            while True:
                with client.acquire_block() as block:
                    if block is None:
                        break
                    _process(task, block, worker)
                    count += 1
        finally:
            task.teardown()
    return count


def _process(task: BlockwiseTask, block, worker: WorkerContext) -> None:
    task.process_block(block)
    fault_point(f"blockwise.marker.{task.task_id}")
    if task.bookkeeping is not None:
        task.bookkeeping.mark_done(task.block_index(block), worker.run_id, worker=worker.worker_id)


def _user_python_path() -> list[str]:
    """This process's ``sys.path`` entries outside the Python installation (the user's
    directories), for cluster workers: daisy's local workers get the whole ``sys.path``."""
    prefixes = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    paths = []
    for entry in sys.path:
        if not entry or not os.path.isdir(entry):
            continue
        real = os.path.realpath(entry)
        if any(real == p or real.startswith(p + os.sep) for p in prefixes):
            continue
        if real not in paths:
            paths.append(real)
    return paths


def _worker_id_from_env() -> int:
    import daisy

    try:
        return int(daisy.Context.from_env()["worker_id"])
    except Exception:
        return 0


class _InProcessBlockFunction:
    """daisy serial mode: ``setup`` on the first block, then ``process_block``."""

    def __init__(self, task: BlockwiseTask, worker: WorkerContext, progress: bool, done: int,
                 position: int = 0):
        from tqdm import tqdm

        self.task = task
        self.worker = worker
        self.ready = False
        self.errors: dict[tuple[int, ...], str] = {}  # block index -> its last error
        # daisy's serial mode shows no progress of its own
        self.bar = tqdm(total=task.num_blocks, initial=done, desc=task.task_id, unit="block",
                        disable=not progress, dynamic_ncols=True, position=position)

    def __call__(self, block) -> None:
        if not self.ready:
            self.task.setup(self.worker)
            self.ready = True
        try:
            _process(self.task, block, self.worker)
        except Exception as exc:
            # daisy's serial mode lets an exception end the whole run; a failed status gets the
            # block retried (max_retries) and the others done, as with worker processes
            from daisy.block import BlockStatus

            index = self.task.block_index(block)
            self.errors[index] = f"{type(exc).__name__}: {exc}"
            logger.warning("block %s of %s failed: %s", index_name(index), self.task.task_id,
                           self.errors[index])
            logger.debug("block %s of %s failed", index_name(index), self.task.task_id, exc_info=True)
            block.status = BlockStatus.FAILED
        else:
            self.errors.pop(self.task.block_index(block), None)
            self.bar.update(1)

    def close(self) -> None:
        self.bar.close()
        if self.ready:
            self.task.teardown()
            self.ready = False


class _LocalWorker:
    """A daisy worker function (no arguments): runs ``worker_loop`` in the daisy-spawned
    subprocess, on this worker's device."""

    def __init__(self, task: BlockwiseTask, run_id: str, compute_context, num_workers: int):
        self.task = task
        self.run_id = run_id
        self.compute_context = compute_context
        self.num_workers = num_workers

    def __call__(self) -> None:
        worker_id = _worker_id_from_env()
        device = None
        if self.task.uses_torch:  # (importing torch costs seconds: only where it is used)
            # one GPU per worker process, chosen before CUDA starts in it
            pinned = self.compute_context.worker_environment(worker_id, os.environ)
            os.environ.update({k: v for k, v in pinned.items() if os.environ.get(k) != v})
            device = (
                self.compute_context.worker_device(worker_id)
                if hasattr(self.compute_context, "worker_device")
                else self.compute_context.device
            )
        worker = WorkerContext(
            run_id=self.run_id,
            device=device,
            num_threads=self.compute_context.num_threads(self.num_workers),
            worker_id=worker_id,
        )
        worker_loop(self.task, worker)


class _CommandWorker:
    """A daisy worker function (no arguments) that launches the worker as a job of the compute
    context (``bsub``/``sbatch``/``srun``) and waits for it."""

    def __init__(self, spec_path: str, run_id: str, compute_context, num_workers: int,
                 task_id: str, log_dir: str, uses_torch: bool = False):
        self.uses_torch = uses_torch
        self.python_path = _user_python_path()
        self.spec_path = spec_path
        self.run_id = run_id
        self.compute_context = compute_context
        self.num_workers = num_workers
        self.task_id = task_id
        self.log_dir = log_dir

    def __call__(self) -> None:
        worker_id = _worker_id_from_env()
        command = [
            sys.executable, "-m", "dacapo.blockwise.worker", self.spec_path,
            "--run-id", self.run_id,
            "--num-threads", str(self.compute_context.num_threads(self.num_workers)),
        ]
        if self.uses_torch:
            command += ["--device", str(self.compute_context.device)]
        Path(self.log_dir).mkdir(parents=True, exist_ok=True)
        log_prefix = str(Path(self.log_dir) / f"{self.task_id}-worker{worker_id}")
        env = self.compute_context.worker_environment(worker_id, os.environ)
        if self.python_path:  # the job imports the user's modules as this process does
            env["PYTHONPATH"] = os.pathsep.join(
                self.python_path + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
            )
        status = self.compute_context.execute(
            command, env=env, job_name=f"dacapo-{self.task_id}"[:64], log_prefix=log_prefix
        )
        if status != 0:
            raise BlockwiseError(
                f"worker {worker_id} of task {self.task_id} exited with status {status} "
                f"(logs: {log_prefix}.*)"
            )


# --- submitting side ------------------------------------------------------------------------------
def run_tasks(
    tasks: Sequence[BlockwiseTask] | BlockwiseTask,
    num_workers: int = 1,
    compute_context=None,
    run_id: Optional[str] = None,
    resume: bool = True,
    progress: bool = True,
) -> RunSummary:
    """Run ``tasks`` (and their upstream tasks) blockwise; raises ``BlockwiseError`` unless
    every block succeeded. Blocks completed by an earlier run of the same job are skipped when
    ``resume`` (the default).

    Before anything is cleared, each output is locked for this job and checked (``ownership``):
    another job writing it, an output overlapping an input, data DaCapo did not write, or a
    different job's output without the task's ``overwrite`` raise a one-line error."""
    start = time.perf_counter()
    if isinstance(tasks, BlockwiseTask):
        tasks = [tasks]
    tasks = all_tasks(tasks)
    cache: dict = {}
    with _claim_outputs(tasks, cache):
        return _run(tasks, num_workers, compute_context, run_id, resume, progress, start, cache)


def _claim_outputs(tasks: Sequence[BlockwiseTask], cache: dict):
    """Lock the outputs of ``tasks`` (their bookkeeping directories when none creates an
    output) and check that the job may write them; a context manager holding the locks.
    (Inputs and foreign data are checked before locking too, so that a refused output gets no
    lock file; whose job an output is, once locked: a job still running is named as such.)"""
    import contextlib

    from .bookkeeping import Bookkeeping
    from .ownership import array_path, locked, wait_for_orphan_workers

    outputs = [(task, output) for task in tasks for output in task.outputs()]
    guarded = {
        Bookkeeping.for_array(o.container, o.dataset).directory: array_path(o) for _, o in outputs
    }
    if not outputs:
        guarded = {t.bookkeeping.directory: t.bookkeeping.directory for t in tasks
                   if t.bookkeeping is not None}
    _check_outputs(tasks, outputs, cache, jobs=False)
    stack = contextlib.ExitStack()
    stack.enter_context(locked(guarded, guarded))
    try:
        wait_for_orphan_workers(t.bookkeeping.directory for t in tasks if t.bookkeeping is not None)
        _check_outputs(tasks, outputs, cache)
    except BaseException:
        stack.close()
        raise
    return stack


def _check_outputs(tasks, outputs, cache: dict, jobs: bool = True) -> None:
    """``check_output`` for every output (with ``jobs`` False, not whose job it is) and
    ``check_bookkeeping`` for every task."""
    from .ownership import check_bookkeeping, check_output, stored_path

    for task in tasks:
        if task.bookkeeping is not None:
            check_bookkeeping(task.bookkeeping)

    inputs = []
    for task in tasks:  # what it reads, less what its upstream tasks write for it
        upstream = {stored_path(o) for u in all_tasks(task.upstream_tasks) for o in u.outputs()}
        inputs += [s for s in task.inputs() if stored_path(s) not in upstream]
    for task, output in outputs:
        same_job = task.bookkeeping is not None and task.bookkeeping.matches(
            fingerprint_of(task, cache)
        )
        check_output(output, inputs, same_job=same_job, overwrite=task.overwrite or not jobs)
        if same_job and jobs:
            task.overwrite = True  # its own output: the job that wrote it may replace it


def _run(tasks, num_workers, compute_context, run_id, resume, progress, start,
         cache: dict) -> RunSummary:
    import daisy

    from dacapo.compute_context import LocalTorch, resolve

    context = resolve(compute_context)
    run_id = run_id or new_run_id()
    workers = context.max_workers(num_workers)
    in_process = isinstance(context, LocalTorch) and context.in_process(num_workers)

    skip_masks = {}
    reset: set[str] = set()  # tasks whose earlier results are gone: downstream ones redo theirs
    for task in tasks:
        upstream_reset = any(u.task_id in reset for u in task.upstream_tasks)
        if task.bookkeeping is None:
            task.prepare(False)
            reset.add(task.task_id)
            continue
        fingerprint = fingerprint_of(task, cache)
        resumed = resume and not upstream_reset and task.bookkeeping.matches(fingerprint)
        if not resumed:
            task.bookkeeping.clear()
        task.bookkeeping.start(fingerprint)
        kept = task.prepare(resumed)  # may refuse to replace an existing output
        if resumed and kept is False:  # the outputs had to be recreated
            task.bookkeeping.clear_done()
            resumed = False
        if not resumed:
            reset.add(task.task_id)
        skip_masks[task.task_id] = task.bookkeeping.done_mask(task.grid_shape)
    if progress:  # (what the console shows: the bars, these lines)
        _say_done_before(tasks, skip_masks)
    if all(t.task_id in skip_masks and skip_masks[t.task_id].all() for t in tasks):
        # every block is recorded as done: daisy would start workers only to skip them
        return _finish(tasks, run_id, start, {
            t.task_id: TaskSummary(t.task_id, t.num_blocks, t.num_blocks, 0, 0) for t in tasks
        })

    spec_dir = None
    if not in_process and not isinstance(context, LocalTorch):
        spec_dir = _spec_directory(tasks)

    daisy_tasks = {}
    in_process_functions = []
    for task in tasks:
        task_workers = workers if task.max_workers is None else min(workers, task.max_workers)
        if in_process:
            device = context.device if task.uses_torch else None
            mask = skip_masks.get(task.task_id)
            function = _InProcessBlockFunction(
                task, WorkerContext(run_id=run_id, device=device, in_process=True),
                progress, 0 if mask is None else int(mask.sum()), len(in_process_functions),
            )
            in_process_functions.append(function)
        elif isinstance(context, LocalTorch):
            function = _LocalWorker(task, run_id, context, task_workers)
        else:
            spec_path = _write_spec(task, spec_dir)
            function = _CommandWorker(
                str(spec_path), run_id, context, task_workers, task.task_id,
                str(Path(spec_dir) / "logs"), uses_torch=task.uses_torch,
            )
        mask = skip_masks.get(task.task_id)
        kwargs = {}
        if mask is not None and mask.any():
            kwargs["skip_mask"] = mask
        daisy_task = daisy.Task(
            task.task_id,
            total_roi=task.total_roi,
            read_roi=task.read_roi,
            write_roi=task.write_roi,
            process_function=function,
            read_write_conflict=task.read_write_conflict,
            fit=task.fit,
            max_workers=task_workers,
            max_retries=task.max_retries,
            timeout=task.timeout if task.timeout is not None else DEFAULT_BLOCK_TIMEOUT,
            **kwargs,
        )
        if tuple(daisy_task.block_grid_shape) != tuple(task.grid_shape):
            raise BlockwiseError(
                f"task {task.task_id}: daisy's block grid {daisy_task.block_grid_shape} differs "
                f"from the task's {task.grid_shape}"
            )
        daisy_tasks[task.task_id] = daisy_task

    edges = [
        (daisy_tasks[u.task_id], daisy_tasks[t.task_id]) for t in tasks for u in t.upstream_tasks
    ]
    pipeline = daisy.Pipeline(list(daisy_tasks.values()), edges)
    logger.info(
        "run %s: %s with %s (%s)", run_id,
        ", ".join(f"{t.task_id} ({t.num_blocks} blocks)" for t in tasks),
        type(context).__name__, "in process" if in_process else f"{workers} workers",
    )
    from daisy import logging as daisy_logging

    previous_log_dir = daisy_logging.get_log_basedir()
    log_dir = next((t.bookkeeping.path("logs") for t in tasks if t.bookkeeping is not None), None)
    if log_dir is not None and previous_log_dir == Path("daisy_logs"):
        # daisy's per-worker logs go next to the output, not to ./daisy_logs
        daisy_logging.set_log_basedir(log_dir)
    worker_logs = _worker_log_directory(spec_dir, in_process, daisy_logging.get_log_basedir())
    observer = False
    if progress and not in_process:
        observer = BlockProgress([t.task_id for t in tasks],
                                 {k: int(mask.sum()) for k, mask in skip_masks.items()})
    try:
        with warnings.catch_warnings(), scheduler_output_to(
            None if in_process or worker_logs is None else worker_logs / "scheduler.log"
        ):
            warnings.simplefilter("ignore", DeprecationWarning)
            states = daisy.run_blockwise(
                pipeline,
                multiprocessing=not in_process,
                host=context.scheduler_host,
                progress=observer,
                summary=False,
                return_states=True,
            )
    except KeyboardInterrupt:
        for function in in_process_functions:
            function.close()  # (its bar first, then the line under it)
        if progress:
            _say_interrupted(tasks)
        raise
    except RuntimeError as error:
        if "abandoned" not in str(error):
            raise
        # daisy gave up on a task: its workers kept failing
        raise BlockwiseError(_abandoned(error, worker_logs)) from None
    finally:
        daisy_logging.set_log_basedir(previous_log_dir)
        for function in in_process_functions:
            function.close()
        if observer:
            observer.close()

    summaries = {}
    failures = []
    for task in tasks:
        state = states[task.task_id]
        skipped = int(state.skipped_count)
        summaries[task.task_id] = TaskSummary(
            task.task_id, int(state.total_block_count), skipped,
            int(state.completed_count) - skipped, int(state.failed_count) + int(state.orphaned_count),
        )
        if state.completed_count != state.total_block_count:
            errors = next((f.errors for f in in_process_functions if f.task is task), {})
            error = (
                _last_line(state.last_worker_error or state.abandon_reason)
                or next(reversed(errors.values()), None)
                or "see the worker logs"
            )
            failures.append(
                f"task {task.task_id}: {state.total_block_count - state.completed_count} of "
                f"{state.total_block_count} blocks failed ({error})"
                + _unfinished_blocks(task, errors)
            )
    if failures:
        logs = "" if worker_logs is None else f" Worker logs: {worker_logs}."
        raise BlockwiseError(
            "; ".join(failures) + f". Completed blocks are recorded: run again to resume.{logs}"
        )
    return _finish(tasks, run_id, start, summaries)


def _finish(tasks, run_id: str, start: float, summaries: dict) -> RunSummary:
    for task in tasks:
        task.finish()
    summary = RunSummary(run_id, summaries, time.perf_counter() - start)
    for s in summaries.values():
        logger.info(
            "%s: %d blocks, %d computed, %d done before", s.task_id, s.total, s.completed, s.skipped
        )
    return summary


def _say_done_before(tasks, skip_masks: dict) -> None:
    """One console line per task that resumes: how many of its blocks an earlier run did."""
    from dacapo.console import say

    for task in tasks:
        mask = skip_masks.get(task.task_id)
        done = 0 if mask is None else int(mask.sum())
        if done == task.num_blocks:
            say("%s: all %d blocks done by an earlier run", task.task_id, done)
        elif done:
            say("%s: %d of %d blocks done by an earlier run; computing the other %d",
                task.task_id, done, task.num_blocks, task.num_blocks - done)


def _say_interrupted(tasks) -> None:
    from dacapo.console import say

    counts = ", ".join(
        f"{t.task_id} {len(t.bookkeeping.done_indices())} of {t.num_blocks} blocks done"
        for t in tasks if t.bookkeeping is not None
    )
    say("interrupted%s; the same command resumes", f" ({counts})" if counts else "")


def _worker_log_directory(spec_dir, in_process: bool, log_dir) -> Optional[Path]:
    """Where the workers' logs go: the cluster jobs' next to their specs, daisy's local
    workers' in daisy's log directory (``None`` in process: errors are reported directly)."""
    if in_process:
        return None
    if spec_dir is not None:
        return Path(spec_dir) / "logs"
    return None if log_dir is None else Path(log_dir)


def _abandoned(error: RuntimeError, worker_logs: Optional[Path]) -> str:
    """One line from daisy's abandonment error (its first line, the worker's last error;
    not its traceback nor its advice to raise ``max_worker_restarts``)."""
    text = str(error)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    first = lines[0].removesuffix("Last worker error:").strip() if lines else "daisy gave up"
    cause = [line for line in lines[1:] if not line.startswith("Fix the worker error")]
    last = f" Last worker error: {cause[-1]}." if cause else ""
    logs = "" if worker_logs is None else f" Worker logs: {worker_logs}."
    return f"{first}{last}{logs} Completed blocks are recorded: run again to resume."


def _unfinished_blocks(task: BlockwiseTask, errors: dict, limit: int = 10) -> str:
    """``; unfinished blocks: <grid index> <write ROI>, ...``: the blocks without a done
    marker (failed, or never run because an upstream block failed)."""
    if task.bookkeeping is not None:
        done = task.bookkeeping.done_indices()
        grid = itertools.product(*(range(int(s)) for s in task.grid_shape))
        unfinished = [index for index in grid if index not in done]
    else:
        unfinished = sorted(errors)
    if not unfinished:
        return ""
    listed = ", ".join(
        f"{index_name(index)} {task.block_write_roi(index)}" for index in unfinished[:limit]
    )
    more = f" and {len(unfinished) - limit} more" if len(unfinished) > limit else ""
    return f"; unfinished blocks (grid index, write ROI): {listed}{more}"


def _last_line(text: Optional[str]) -> Optional[str]:
    """The exception line of a traceback (the last non-empty line)."""
    if not text:
        return None
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[-1] if lines else None


def _spec_directory(tasks: Sequence[BlockwiseTask]) -> Path:
    """Where worker specs and logs go: next to the first task's bookkeeping (shared with the
    cluster nodes), else a directory under the working directory."""
    for task in tasks:
        if task.bookkeeping is not None:
            return task.bookkeeping.path("workers")
    import tempfile

    base = Path(os.getcwd()) / ".dacapo-blockwise"
    base.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="run-", dir=base))


def _write_spec(task: BlockwiseTask, directory: Path) -> Path:
    import cloudpickle

    from .bookkeeping import atomic_write_bytes

    path = Path(directory) / f"{task.task_id}.pkl"
    atomic_write_bytes(path, cloudpickle.dumps(task))
    return path
