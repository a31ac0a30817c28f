"""Workers on this machine."""

from __future__ import annotations

from typing import Mapping, Optional

import attrs

from .compute_context import ComputeContext, available_cpus


def _device_name(value):
    if value is None:
        return None
    text = str(value)
    if not (text in ("cpu", "cuda", "mps") or text.startswith("cuda:")):
        raise ValueError(f"LocalTorch: device must be 'cpu', 'cuda', 'cuda:N' or 'mps', got {value!r}")
    return text


@attrs.frozen
class LocalTorch(ComputeContext):
    """Workers on this machine with torch on ``device`` (default: cuda if available, else cpu).

    With ``num_workers == 1`` and ``distribute_workers`` False, blocks are processed in this
    process (no subprocess, the model is built once); otherwise every worker is a subprocess
    that builds the model once and keeps it while it takes blocks. Without ``oversubscribe``
    the number of workers is capped at the number of GPUs (cuda) or CPU cores (cpu); CPU
    workers share the cores (``torch.set_num_threads(cores // workers)``) and CUDA workers are
    pinned one per GPU, round-robin (``CUDA_VISIBLE_DEVICES`` of each worker process)."""

    _device: Optional[str] = attrs.field(
        default=None, converter=_device_name, alias="device",
        metadata={"help_text": "'cpu', 'cuda' or 'cuda:N'; default: cuda if available, else cpu"},
    )
    oversubscribe: bool = attrs.field(
        default=False, converter=bool,
        metadata={"help_text": "allow more workers than GPUs (cuda) or CPU cores (cpu)"},
    )
    _distribute_workers: bool = attrs.field(
        default=False, converter=bool, alias="distribute_workers",
        metadata={"help_text": "run workers as subprocesses even when there is only one"},
    )

    @property
    def distribute_workers(self) -> bool:
        return self._distribute_workers

    @property
    def device(self):
        import torch

        if self._device is not None:
            return torch.device(self._device)
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")

    @property
    def scheduler_host(self) -> Optional[str]:
        return "127.0.0.1"

    def _num_devices(self) -> int:
        if self.device.type == "cuda":
            import torch

            return 1 if self.device.index is not None else max(1, torch.cuda.device_count())
        return available_cpus()

    def max_workers(self, num_workers: int) -> int:
        num_workers = max(1, int(num_workers))
        return num_workers if self.oversubscribe else min(num_workers, self._num_devices())

    def in_process(self, num_workers: int) -> bool:
        """Whether blocks are processed in this process (no workers)."""
        return not self.distribute_workers and self.max_workers(num_workers) == 1

    def train_command(self, command, *, job_name=None, log_prefix=None) -> list[str]:
        """``torchrun --standalone --nproc-per-node=N COMMAND`` with one rank per visible GPU
        (one rank on CPU or a given ``cuda:N``; start ``torchrun`` yourself for more CPU ranks).
        ``command`` starts with ``python -m MODULE``."""
        import sys

        ranks = self._num_devices() if self.device.type == "cuda" else 1
        command = [str(c) for c in command]
        if command[1:2] == ["-m"]:
            command = command[1:]
        return [sys.executable, "-m", "torch.distributed.run", "--standalone",
                f"--nproc-per-node={ranks}", *command]

    def worker_environment(self, worker_id: int, env: Mapping[str, str]) -> dict:
        """``env`` with worker ``worker_id`` pinned to one GPU, round-robin over
        ``CUDA_VISIBLE_DEVICES`` (or all GPUs) when the device is ``cuda`` without an index: the
        worker sees that GPU alone, as ``cuda:0``."""
        env = dict(env)
        device = self.device
        if device.type != "cuda" or device.index is not None:
            return env
        if env.get("CUDA_VISIBLE_DEVICES") is not None:
            gpus = [gpu for gpu in env["CUDA_VISIBLE_DEVICES"].split(",") if gpu.strip()]
        else:
            import torch

            gpus = [str(i) for i in range(torch.cuda.device_count())]
        if len(gpus) > 1:
            env["CUDA_VISIBLE_DEVICES"] = gpus[worker_id % len(gpus)]
        return env

    def worker_device(self, worker_id: int):
        """The device of worker ``worker_id``: this context's (a ``cuda`` worker sees only the
        GPU ``worker_environment`` pinned it to)."""
        return self.device
