"""Training: ``train(run_name)`` and ``train_run(run)``.

The loop resumes from the latest checkpoint (model, optimizer, scheduler, RNG), stores training
stats and a checkpoint every ``validation_interval`` iterations (stats first, so a kill between the
two only leaves stats that the resume rolls back), writes snapshots every ``snapshot_interval`` and
stops with a clear error on a non-finite loss, keeping the last good checkpoint.

Under ``torchrun`` (or ``srun``/``jsrun``, see ``dacapo.distributed``) every rank runs this loop on
its own data pipeline (seeded per rank) with the model wrapped in ``DistributedDataParallel``:
gradients are averaged over the ranks, so N ranks of ``batch_size`` b train like one process with
a batch of N × b at the same learning rate. Rank 0 alone takes the run lock, writes checkpoints,
stats, TensorBoard events and snapshots, and validates; every rank resumes from the checkpoint
rank 0 names.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Optional

from dacapo.compat import original_arguments

logger = logging.getLogger(__name__)


class TrainingError(RuntimeError):
    pass


@original_arguments(renamed={"do_validate": "validate"})
def train(run_name: str, validate: bool = True, background_validation: bool = False,
          iterations: Optional[int] = None) -> None:
    """Train the stored run ``run_name``; ``iterations`` changes how long it trains in all
    (recorded by ``dacapo.experiments.run_length``: a finished run trains further from its
    latest checkpoint, keeping its stats, checkpoints and validations)."""
    from dacapo.experiments.run import Run
    from dacapo.store.create_store import create_config_store

    run_config = create_config_store().retrieve_run_config(run_name)
    train_run(Run(run_config), validate=validate, background_validation=background_validation,
              iterations=iterations)


def launch(run_name: str, validate: bool = True, background_validation: bool = False,
           compute_context=None, iterations: Optional[int] = None) -> int:
    """Start the ranks of a data-parallel training of ``run_name`` through the compute context
    (``Slurm``/``Bsub``: one job of ``nodes`` × ``ranks_per_node`` ranks; ``LocalTorch``:
    ``torchrun`` with one rank per GPU), wait for them and return the exit status."""
    import sys

    from dacapo.compute_context import resolve
    from dacapo.options import run_directory

    logs = run_directory(run_name) / "train-logs"  # (checks the name first)
    context = resolve(compute_context)
    level = logging.getLevelName(logging.getLogger().getEffectiveLevel())
    level = level if level in ("DEBUG", "INFO", "WARNING", "ERROR") else "WARNING"
    command = [sys.executable, "-m", "dacapo.cli", "--log-level", level, "train", "-r", run_name]
    if not validate:
        command.append("--no-validation")
    if background_validation:
        command.append("--background-validation")
    if iterations is not None:  # rank 0 records it
        command += ["--iterations", str(iterations)]
    logs.mkdir(parents=True, exist_ok=True)
    wrapped = context.train_command(command, job_name=f"dacapo-train-{run_name}"[:64],
                                    log_prefix=str(logs / "train"))
    logger.info("starting the ranks of %s: %s", run_name, context.shell_join(wrapped))
    return context.execute(wrapped, wrapped=True)


def train_step(model, optimizer, scaler, loss_fn, raw, target, weight, device, ranks=None,
               amp: bool = True):
    """One optimisation step of ``model`` (DDP-wrapped for several ranks) on one batch; returns
    the prediction and the loss averaged over the ranks. Nothing is updated when that loss is
    not finite (every rank sees the same value and stops alike). ``amp``: mixed precision on
    CUDA (see ``torch_utils.autocast``)."""
    from dacapo.distributed import RankContext, mean_over_ranks
    from dacapo.utils.torch_utils import autocast

    ranks = ranks or RankContext()
    optimizer.zero_grad(set_to_none=True)
    with autocast(device, enabled=amp):  # mixed precision on CUDA, nothing elsewhere
        prediction = model(raw)
    loss = loss_fn.compute(prediction.float(), target, weight)
    loss_value = mean_over_ranks(float(loss.item()), ranks, device)
    if math.isfinite(loss_value):
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
    return prediction, loss_value


@original_arguments(renamed={"do_validate": "validate"})
def train_run(
    run,
    validate: bool = True,
    device: Optional[str] = None,
    background_validation: bool = False,
    iterations: Optional[int] = None,
) -> None:
    """Train ``run`` up to ``run.train_until`` iterations (or the length recorded by an earlier
    ``iterations``; a new ``iterations`` is recorded first). With ``background_validation`` each
    checkpoint is validated by a ``dacapo validate`` subprocess while training goes on (at most
    one at a time; the last is awaited before returning). Under a multi-rank launcher, trains
    as one rank of several (see the module docstring)."""
    from dacapo import distributed

    ranks = distributed.rank_context()
    device = distributed.rank_device(ranks, device)
    distributed.init_process_group(ranks, device)
    if ranks.distributed:
        logger.info("run %s: rank %d of %d (%s) on %s", run.name, ranks.rank, ranks.world_size,
                    ranks.launcher, device)
    finished = False
    try:
        _train_ranks(run, validate, device, background_validation, ranks, iterations)
        finished = True
    finally:
        distributed.leave(ranks, finished)  # together when all finished (see ``leave``)


def _train_ranks(run, validate, device, background_validation, ranks, iterations=None) -> None:
    import contextlib

    from dacapo import console, distributed
    from dacapo.experiments import run_state
    from dacapo.experiments.run_length import planned_iterations, set_planned_iterations
    from dacapo.experiments.training_iteration_stats import TrainingIterationStats
    from dacapo.store.create_store import (
        create_array_store,
        create_stats_store,
        create_weights_store,
    )
    from dacapo.tensorboard import RunBoard
    from dacapo.utils.faults import fault_point
    from dacapo.utils.run_lock import run_lock
    from dacapo.utils.torch_utils import (
        configure_device,
        grad_scaler,
        memory_format,
        place_model,
        to_tensor,
    )

    stats_store = create_stats_store()
    weights_store = create_weights_store()
    array_store = create_array_store()

    run.check()  # RunConfig.verify's checks, before anything is created
    main = ranks.is_main
    with run_lock(run.name) if main else contextlib.nullcontext():
        scaler = grad_scaler(device)  # enabled only for fp16 autocast
        latest = refusal = None
        if main:
            if iterations is not None:
                set_planned_iterations(run.name, iterations,
                                       weights_store.latest_iteration(run.name) or 0)
            run.train_until = planned_iterations(run.name, run.train_until)
            run.training_stats = stats_store.retrieve_training_stats(run.name)
            latest = weights_store.retrieve_latest_verified(run.name)
            if latest is None and weights_store.iterations(run.name):
                # never retrain over checkpoints, damaged or not
                refusal = (
                    f"run {run.name}: none of its checkpoints reads back whole (newest: "
                    f"{weights_store.describe(run.name, weights_store.iterations(run.name)[-1])}); "
                    "restore them from a copy, or delete them to train from the start"
                )
        # every rank trains as long as, and resumes from the checkpoint, rank 0 verified
        resume_from, refusal, run.train_until = distributed.broadcast_from_main(
            (None if latest is None else int(latest["iteration"]), refusal, run.train_until), ranks
        )
        if refusal is not None:
            raise TrainingError(refusal)
        if resume_from is not None:
            if main and validate:  # before the restore, which sets the RNG states and the model back
                _validate_missed(run, weights_store, stats_store, resume_from, device)
            if latest is None:
                latest = weights_store.retrieve_weights(run.name, resume_from)
            trained_until = run_state.restore(run, latest, scaler=scaler)
            console.say("resuming run %s from its checkpoint at iteration %d", run.name,
                        trained_until)
        else:
            trained_until = 0
            run.initialize_from_start()
        if main and run.training_stats.trained_until() > trained_until:
            run.training_stats.delete_after(trained_until)
            stats_store.store_training_stats(run.name, run.training_stats)

        if trained_until >= run.train_until:
            console.say(
                "run %s is finished: trained for %d of %d iterations (to train it further: "
                "dacapo train -r %s --iterations N)",
                run.name, trained_until, run.train_until, run.name,
            )
            return
        _warn_long_warmup(run)

        configure_device(device)  # TF32 and cuDNN autotuning on CUDA
        place_model(run.model, device)
        model = distributed.wrap_model(run.model, ranks, device)
        fmt = memory_format(run.model)
        _move_optimizer(run.optimizer, device)
        console.say("training run %s on %s: iterations %d to %d, checkpoint and validation every %d",
                    run.name, device, trained_until, run.train_until, run.validation_interval)

        trainer = run.trainer
        trainer.build_batch_provider(
            run.datasplit.train, run.model, run.task, seed=distributed.rank_seed(run.seed, ranks.rank)
        )
        snapshot_interval = getattr(trainer.config, "snapshot_interval", None)
        loss_fn = run.task.loss

        board = RunBoard(run.name, purge_step=trained_until or None)
        spatial_dims = len(getattr(trainer, "raw_voxel_size", None) or (0, 0, 0))

        def checkpoint(iteration: int) -> None:
            stats_store.store_training_stats(run.name, run.training_stats)
            weights_store.store_weights(
                run.name, iteration, run_state.capture(run, iteration, scaler=scaler)
            )
            board.flush()

        validator = _BackgroundValidator(run.name) if background_validation and main else None

        with trainer, board, console.TrainingProgress(
            run.name, run.train_until, trained_until, enabled=main
        ) as progress:
            for iteration in range(trained_until, run.train_until):
                start = time.perf_counter()
                batch = trainer.next_batch(iteration)
                data_time = time.perf_counter() - start

                run.model.train()
                raw = to_tensor(batch["raw"], device, fmt)
                target = to_tensor(batch["target"], device, fmt)
                weight = to_tensor(batch["weight"], device, fmt)
                prediction, loss_value = train_step(
                    model, run.optimizer, scaler, loss_fn, raw, target, weight, device, ranks
                )
                if not math.isfinite(loss_value):
                    raise TrainingError(
                        f"run {run.name}: loss is {loss_value} at iteration {iteration}; stopped. "
                        f"Last good checkpoint: {weights_store.latest_iteration(run.name)}. "
                        "Lower the learning rate or check the data for NaNs."
                    )
                if run.scheduler is not None:
                    run.scheduler.step()

                iteration_stats = TrainingIterationStats(
                    iteration=iteration,
                    loss=loss_value,
                    time=time.perf_counter() - start,
                    learning_rate=run.optimizer.param_groups[0]["lr"],
                    data_time=data_time,
                )
                progress.update(loss_value, iteration_stats.time, data_time,
                                iteration_stats.learning_rate)
                done = iteration + 1
                if not main:  # rank 0 alone records, snapshots, checkpoints and validates
                    continue
                run.training_stats.add_iteration_stats(iteration_stats)
                board.training(iteration_stats)
                if snapshot_interval and done % snapshot_interval == 0:
                    prediction_data = prediction.detach().float().cpu().numpy()
                    trainer.write_snapshot(
                        array_store.snapshot_container(run.name).container,
                        done,
                        batch,
                        prediction_data,
                    )
                    board.snapshot(
                        iteration,
                        {"raw": batch["raw"], "target": batch["target"], "prediction": prediction_data},
                        spatial_dims,
                    )

                if done % run.validation_interval == 0 or done == run.train_until:
                    checkpoint(done)
                    progress.checkpoint()
                    if validate and done % run.validation_interval == 0:
                        fault_point("train.validate")
                        if validator is not None:
                            validator.start(done)
                        else:
                            _validate(run, done, device, board)
        if validator is not None:
            validator.wait()
        if hasattr(stats_store, "flush"):  # stats buffered during a database outage
            stats_store.flush()
        console.say("run %s finished: trained for %d iterations", run.name, run.train_until)


def _validate(run, iteration: int, device, board) -> None:
    from dacapo import console
    from dacapo.validate import validate_run

    validate_run(run, iteration, device=device, board=board)
    summary = console.validation_summary(run.name, run.config, iteration)
    if summary is not None:
        console.say(summary)


def _warn_long_warmup(run) -> None:
    """A learning-rate warm-up longer than the run never reaches the configured rate."""
    from dacapo import console

    warmup = int(getattr(run.trainer.config, "warmup_iterations", 0) or 0)
    if warmup > run.train_until:
        console.warn(
            "run %s: the trainer %r warms the learning rate up over %d iterations but the run "
            "trains for %d: it never reaches learning_rate %g (set warmup_iterations lower)",
            run.name, run.trainer.config.name, warmup, run.train_until,
            getattr(run.trainer.config, "learning_rate", float("nan")),
        )


def _validate_missed(run, weights_store, stats_store, latest: int, device) -> None:
    """Validate the stored checkpoints up to ``latest`` that were due a validation but have no
    scores (a kill during validation), then recompute the best iterations from all stored
    scores. Leaves other weights in ``run.model``: the caller restores the checkpoint after."""
    from dacapo.utils.checkpoints import DamagedCheckpoint
    from dacapo.validate import record_best

    if not run.datasplit.validate:
        return
    scored = {s.iteration for s in stats_store.retrieve_validation_iteration_scores(run.name)}
    due = [
        i for i in weights_store.iterations(run.name)
        if 0 < i <= latest and i % run.validation_interval == 0 and i not in scored
    ]
    for iteration in due:
        try:
            state = weights_store.retrieve_weights(run.name, iteration)
        except DamagedCheckpoint as error:
            logger.warning("run %s: cannot validate iteration %d: %s", run.name, iteration, error)
            continue
        logger.warning("run %s: checkpoint %d was never validated (interrupted); validating it now",
                       run.name, iteration)
        run.model.load_state_dict(state["model"])
        _validate(run, iteration, device, None)
    if scored and not due:  # a kill between storing the scores and the best iterations
        record_best(run)


class _BackgroundValidator:
    """One ``dacapo validate`` subprocess at a time, with the same options as this process."""

    def __init__(self, run_name: str):
        self.run_name = run_name
        self.process = None

    def start(self, iteration: int) -> None:
        import os
        import subprocess
        import sys

        from dacapo.options import Options

        self.wait()
        env = {**os.environ, **Options.export_environment()}
        command = [sys.executable, "-m", "dacapo.cli", "validate", "-r", self.run_name,
                   "-i", str(iteration), "--no-progress"]
        self.process = subprocess.Popen(command, env=env)
        self.iteration = iteration

    def wait(self) -> None:
        if self.process is not None:
            if self.process.wait() != 0:
                logger.error(
                    "background validation of %s at iteration %d failed (exit %d)",
                    self.run_name, self.iteration, self.process.returncode,
                )
            self.process = None


def _move_optimizer(optimizer, device) -> None:
    import torch

    for state in optimizer.state.values():
        for key, value in state.items():
            if isinstance(value, torch.Tensor):
                state[key] = value.to(device)


from dacapo.utils.callable_module import make_callable  # noqa: E402

make_callable(__name__)  # ``dacapo.train(...)`` calls train(); ``import dacapo.train`` is this module
