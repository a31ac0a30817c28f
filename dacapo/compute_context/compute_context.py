"""Base of the compute contexts: where and how blockwise workers run.

A compute context is an immutable attrs config (selected in ``dacapo.yaml`` by
``compute_context: {type: LocalTorch|Bsub|Slurm, config: {...}}``). It says

- which torch ``device`` a worker uses,
- whether workers are separate processes (``distribute_workers``),
- how a worker command is launched (``wrap_command``: identity locally, ``bsub ...`` on LSF,
  ``sbatch --wait ... --wrap`` or ``srun ...`` on SLURM) and runs it (``execute``),
- which address workers use to reach the daisy scheduler (``scheduler_host``).

Workers find the scheduler through daisy's ``DAISY_CONTEXT`` environment variable and see the
same DaCapo options through ``Options.export_environment()``; ``execute`` passes both on.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from typing import Mapping, Optional, Sequence

import attrs


def available_cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


@attrs.frozen
class ComputeContext:
    """Runs worker commands. Subclasses override ``device``, ``wrap_command`` and, for cluster
    schedulers, ``distribute_workers`` and ``scheduler_host``."""

    @property
    def device(self):
        """The ``torch.device`` workers compute on."""
        raise NotImplementedError

    @property
    def distribute_workers(self) -> bool:
        """Whether every worker is a separate process (always, on a cluster)."""
        return True

    @property
    def scheduler_host(self) -> Optional[str]:
        """Address workers connect to; ``None`` lets daisy detect one (listening on every
        interface), ``"127.0.0.1"`` keeps the scheduler private to this machine."""
        return None

    def max_workers(self, num_workers: int) -> int:
        """How many workers to start when ``num_workers`` are asked for."""
        return max(1, int(num_workers))

    def num_threads(self, num_workers: int) -> int:
        """torch intra-op threads per worker."""
        return max(1, available_cpus() // max(1, num_workers))

    def worker_environment(self, worker_id: int, env: Mapping[str, str]) -> dict:
        """The environment of worker ``worker_id`` given the submitting ``env`` (which GPU it
        sees)."""
        return dict(env)

    def wrap_command(self, command: Sequence[str], *, job_name: Optional[str] = None,
                     log_prefix: Optional[str] = None) -> list[str]:
        """The command line that runs ``command`` (a list of arguments) in this context."""
        return [str(c) for c in command]

    def command(self, command: Sequence[str], **kwargs) -> list[str]:
        """Alias of ``wrap_command`` (the original DaCapo spells it ``_wrap_command``)."""
        return self.wrap_command(command, **kwargs)

    _wrap_command = command

    def execute(self, command: Sequence[str], env: Optional[Mapping[str, str]] = None,
                wrapped: bool = False, **kwargs) -> int:
        """Run ``command`` wrapped for this context (as it is when ``wrapped``), wait for it,
        return its exit status. ``env`` (default: this process's environment) gets the DaCapo
        options added."""
        from dacapo.options import Options

        full_env = dict(os.environ if env is None else env)
        full_env.update(Options.export_environment())
        if not wrapped:
            command = self.wrap_command(command, **kwargs)
        return subprocess.run([str(c) for c in command], env=full_env).returncode

    def train_command(self, command: Sequence[str], *, job_name: Optional[str] = None,
                      log_prefix: Optional[str] = None) -> list[str]:
        """The command line that starts the ranks of one data-parallel training, each running
        ``command`` (``python -m dacapo.cli train -r RUN``); see ``dacapo.distributed``."""
        raise NotImplementedError(f"{type(self).__name__} cannot launch training ranks")

    @staticmethod
    def shell_join(command: Sequence[str]) -> str:
        return shlex.join([str(c) for c in command])


def _positive(instance, attribute, value) -> None:
    if value is not None and value < 1:
        raise ValueError(f"{type(instance).__name__}: {attribute.name} must be >= 1, got {value!r}")


def _optional_int(value):
    return None if value is None else int(value)


def nodes_field():
    return attrs.field(default=1, converter=int, validator=_positive,
                       metadata={"help_text": "nodes of a data-parallel training job"})


def gpus_per_node_field():
    return attrs.field(default=0, converter=int,
                       metadata={"help_text": "GPUs per node of a training job (one rank each)"})


def ranks_per_node_field():
    return attrs.field(
        default=None, converter=_optional_int, validator=_positive,
        metadata={"help_text": "training ranks per node; default: gpus_per_node, or 1 on CPU"},
    )


class ClusterContext(ComputeContext):
    """Shared by the cluster schedulers (``Bsub``, ``Slurm``): attrs subclasses with ``num_gpus``,
    ``num_cpus`` and ``host`` fields; every worker is its own job. A data-parallel training is
    one job of ``nodes`` × ``ranks`` (fields ``nodes``, ``gpus_per_node``, ``ranks_per_node``),
    each rank with ``num_cpus`` CPUs and one GPU."""

    @property
    def ranks(self) -> int:
        """Training ranks per node."""
        return self.ranks_per_node or max(1, self.gpus_per_node)

    @property
    def device(self):
        import torch

        return torch.device("cuda" if self.num_gpus > 0 else "cpu")

    @property
    def scheduler_host(self) -> Optional[str]:
        return self.host

    def num_threads(self, num_workers: int) -> int:
        return max(1, self.num_cpus)

    def worker_environment(self, worker_id: int, env: Mapping[str, str]) -> dict:
        """``env`` without the submitter's ``CUDA_VISIBLE_DEVICES``: a GPU job sees the GPUs
        the scheduler gave it (SLURM and LSF set the variable per job), not the submitter's."""
        env = dict(env)
        if self.num_gpus > 0:
            env.pop("CUDA_VISIBLE_DEVICES", None)
        return env

def __getattr__(name: str):
    if name == "create_compute_context":  # dacapo-ml 0.3.5 defined it here
        from dacapo.compute_context import create_compute_context

        return create_compute_context
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
