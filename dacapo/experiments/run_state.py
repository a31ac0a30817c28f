"""What a checkpoint holds: model, optimizer, scheduler, mixed-precision ``GradScaler`` (when
enabled) and RNG states, so that a resumed run continues exactly where it stopped."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch


def capture(run: Any, iteration: int, scaler: Any = None) -> dict:
    return {
        "iteration": iteration,
        "model": run.model.state_dict(),
        "optimizer": run.optimizer.state_dict(),
        "scheduler": run.scheduler.state_dict() if run.scheduler is not None else None,
        "rng": {
            "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
            "numpy": np.random.get_state(),
            "python": random.getstate(),
        },
        "scaler": scaler.state_dict() if scaler is not None and scaler.is_enabled() else None,
    }


def restore(run: Any, state: dict, scaler: Any = None) -> int:
    """Load ``state`` into ``run`` (and ``scaler``); returns the checkpoint's iteration."""
    run.model.load_state_dict(state["model"])
    if scaler is not None and scaler.is_enabled() and state.get("scaler"):
        scaler.load_state_dict(state["scaler"])
    run.optimizer.load_state_dict(state["optimizer"])
    if run.scheduler is not None and state.get("scheduler") is not None:
        run.scheduler.load_state_dict(state["scheduler"])
    rng = state.get("rng") or {}
    if rng.get("torch") is not None:
        torch.set_rng_state(rng["torch"])
    if rng.get("cuda") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])
    if rng.get("numpy") is not None:
        np.random.set_state(rng["numpy"])
    if rng.get("python") is not None:
        random.setstate(rng["python"])
    return int(state["iteration"])
