"""Training: ``train(run_name)`` and ``train_run(run)``.

The loop resumes from the latest checkpoint (model, optimizer, scheduler, RNG), stores training
stats and a checkpoint every ``validation_interval`` iterations (stats first, so a kill between the
two only leaves stats that the resume rolls back), writes snapshots every ``snapshot_interval`` and
stops with a clear error on a non-finite loss, keeping the last good checkpoint.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Optional

logger = logging.getLogger(__name__)


class TrainingError(RuntimeError):
    pass


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
    one at a time; the last is awaited before returning)."""
    import torch

    from dacapo import console
    from dacapo.experiments import run_state
    from dacapo.experiments.run_length import planned_iterations, set_planned_iterations
    from dacapo.experiments.training_iteration_stats import TrainingIterationStats
    from dacapo.store.create_store import (
        create_array_store,
        create_stats_store,
        create_weights_store,
    )
    from dacapo.tensorboard import RunBoard
    from dacapo.utils.run_lock import run_lock
    from dacapo.utils.torch_utils import (
        autocast,
        configure_device,
        default_device,
        grad_scaler,
        memory_format,
        place_model,
        to_tensor,
    )

    stats_store = create_stats_store()
    weights_store = create_weights_store()
    array_store = create_array_store()

    run.check()  # RunConfig.verify's checks, before anything is created
    with run_lock(run.name):
        latest = weights_store.latest_iteration(run.name)
        if iterations is not None:
            set_planned_iterations(run.name, iterations, latest or 0)
        run.train_until = planned_iterations(run.name, run.train_until)
        run.training_stats = stats_store.retrieve_training_stats(run.name)
        if latest is not None:
            trained_until = run_state.restore(run, weights_store.retrieve_weights(run.name, latest))
            console.say("resuming run %s from its checkpoint at iteration %d", run.name, trained_until)
        else:
            trained_until = 0
            run.initialize_from_start()
        if run.training_stats.trained_until() > trained_until:
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

        device = default_device(device)
        configure_device(device)  # TF32 and cuDNN autotuning on CUDA
        scaler = grad_scaler(device)  # enabled only for fp16 autocast
        place_model(run.model, device)
        fmt = memory_format(run.model)
        _move_optimizer(run.optimizer, device)
        console.say("training run %s on %s: iterations %d to %d, checkpoint and validation every %d",
                    run.name, device, trained_until, run.train_until, run.validation_interval)

        trainer = run.trainer
        trainer.build_batch_provider(run.datasplit.train, run.model, run.task, seed=run.seed)
        snapshot_interval = getattr(trainer.config, "snapshot_interval", None)
        loss_fn = run.task.loss

        board = RunBoard(run.name, purge_step=trained_until or None)
        spatial_dims = len(getattr(trainer, "raw_voxel_size", None) or (0, 0, 0))

        def checkpoint(iteration: int) -> None:
            stats_store.store_training_stats(run.name, run.training_stats)
            weights_store.store_weights(run.name, iteration, run_state.capture(run, iteration))
            board.flush()

        validator = _BackgroundValidator(run.name) if background_validation else None

        with trainer, board, console.TrainingProgress(
            run.name, run.train_until, trained_until
        ) as progress:
            for iteration in range(trained_until, run.train_until):
                start = time.perf_counter()
                batch = trainer.next_batch(iteration)
                data_time = time.perf_counter() - start

                run.model.train()
                raw = to_tensor(batch["raw"], device, fmt)
                target = to_tensor(batch["target"], device, fmt)
                weight = to_tensor(batch["weight"], device, fmt)
                run.optimizer.zero_grad(set_to_none=True)
                with autocast(device):  # mixed precision on CUDA, nothing elsewhere
                    prediction = run.model(raw)
                loss = loss_fn.compute(prediction.float(), target, weight)
                loss_value = float(loss.item())
                if not math.isfinite(loss_value):
                    raise TrainingError(
                        f"run {run.name}: loss is {loss_value} at iteration {iteration}; stopped. "
                        f"Last good checkpoint: {weights_store.latest_iteration(run.name)}. "
                        "Lower the learning rate or check the data for NaNs."
                    )
                scaler.scale(loss).backward()
                scaler.step(run.optimizer)
                scaler.update()
                if run.scheduler is not None:
                    run.scheduler.step()

                iteration_stats = TrainingIterationStats(
                    iteration=iteration,
                    loss=loss_value,
                    time=time.perf_counter() - start,
                    learning_rate=run.optimizer.param_groups[0]["lr"],
                    data_time=data_time,
                )
                run.training_stats.add_iteration_stats(iteration_stats)
                board.training(iteration_stats)
                done = iteration + 1
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
                progress.update(loss_value, iteration_stats.time, data_time,
                                iteration_stats.learning_rate)

                if done % run.validation_interval == 0 or done == run.train_until:
                    checkpoint(done)
                    progress.checkpoint()
                    if validate and done % run.validation_interval == 0:
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
