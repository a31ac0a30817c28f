"""Workers as SLURM jobs (``sbatch --wait --wrap`` or ``srun``)."""

from __future__ import annotations

from typing import Optional, Sequence

import attrs

from .bsub import _str_list
from .compute_context import (
    ClusterContext,
    gpus_per_node_field,
    nodes_field,
    ranks_per_node_field,
)

_LAUNCHERS = ("sbatch", "srun")


@attrs.frozen
class Slurm(ClusterContext):
    """Every worker is a SLURM job. With ``launcher="sbatch"`` (default):
    ``sbatch --wait --parsable --job-name=NAME [--partition=P] --ntasks=1 --cpus-per-task=N
    [--gres=gpu:G] [--mem=M] [--time=T] [--account=A] [--qos=Q] [--constraint=C]
    --output=LOG.%j.out --error=LOG.%j.err --export=ALL [EXTRA...] --wrap 'COMMAND'``;
    with ``launcher="srun"`` the same resources go to ``srun ... COMMAND`` (for use inside an
    allocation). Both wait for the worker and return its exit status. ``--export=ALL`` hands the
    job the submitting environment: daisy's ``DAISY_CONTEXT`` (the scheduler's address, so the
    worker connects back) and the DaCapo options (``Options.export_environment()``). The
    scheduler listens on every interface and tells workers this host's address; set ``host``
    when compute nodes must use another one (``"127.0.0.1"`` for a single-node cluster).

    ``train_command`` starts a data-parallel training as one job of ``nodes`` ×
    ``ranks_per_node`` tasks (default: one per GPU of ``gpus_per_node``)."""

    partition: Optional[str] = attrs.field(default=None, metadata={"help_text": "partition (-p)"})
    num_gpus: int = attrs.field(default=0, converter=int, metadata={"help_text": "GPUs per worker (--gres=gpu:N)"})
    num_cpus: int = attrs.field(default=1, converter=int, metadata={"help_text": "CPUs per worker (--cpus-per-task)"})
    mem: Optional[str] = attrs.field(default=None, metadata={"help_text": "memory per worker (--mem), e.g. '16G'"})
    time: Optional[str] = attrs.field(default=None, metadata={"help_text": "time limit (--time), e.g. '2:00:00'"})
    account: Optional[str] = attrs.field(default=None, metadata={"help_text": "account to bill (--account)"})
    qos: Optional[str] = attrs.field(default=None, metadata={"help_text": "quality of service (--qos)"})
    constraint: Optional[str] = attrs.field(default=None, metadata={"help_text": "node features (--constraint)"})
    job_name: str = attrs.field(default="dacapo", metadata={"help_text": "job name (--job-name)"})
    launcher: str = attrs.field(
        default="sbatch",
        validator=attrs.validators.in_(_LAUNCHERS),
        metadata={"help_text": "'sbatch' (submit and wait) or 'srun' (inside an allocation)"},
    )
    extra_args: list = attrs.field(factory=list, converter=_str_list, metadata={"help_text": "more sbatch/srun arguments"})
    host: Optional[str] = attrs.field(default=None, metadata={"help_text": "scheduler address workers connect to"})
    nodes: int = nodes_field()
    gpus_per_node: int = gpus_per_node_field()
    ranks_per_node: Optional[int] = ranks_per_node_field()

    def resource_args(self, job_name: Optional[str] = None, log_prefix: Optional[str] = None,
                      training: bool = False) -> list[str]:
        args = [f"--job-name={job_name or self.job_name}"]
        if self.partition:
            args.append(f"--partition={self.partition}")
        if training:
            args += [f"--nodes={self.nodes}", f"--ntasks-per-node={self.ranks}",
                     f"--cpus-per-task={self.num_cpus}"]
            if self.gpus_per_node > 0:
                args.append(f"--gpus-per-node={self.gpus_per_node}")
        else:
            args += ["--ntasks=1", f"--cpus-per-task={self.num_cpus}"]
            if self.num_gpus > 0:
                args.append(f"--gres=gpu:{self.num_gpus}")
        for flag, value in (("mem", self.mem), ("time", self.time), ("account", self.account),
                            ("qos", self.qos), ("constraint", self.constraint)):
            if value:
                args.append(f"--{flag}={value}")
        if log_prefix is not None:
            args += [f"--output={log_prefix}.%j.out", f"--error={log_prefix}.%j.err"]
        args.append("--export=ALL")
        return args + list(self.extra_args)

    def wrap_command(self, command: Sequence[str], *, job_name: Optional[str] = None,
                     log_prefix: Optional[str] = None) -> list[str]:
        command = [str(c) for c in command]
        resources = self.resource_args(job_name, log_prefix)
        if self.launcher == "srun":
            return ["srun", *resources, *command]
        return ["sbatch", "--wait", "--parsable", *resources, "--wrap", self.shell_join(command)]

    def train_command(self, command: Sequence[str], *, job_name: Optional[str] = None,
                      log_prefix: Optional[str] = None) -> list[str]:
        """``nodes`` × ``ranks`` SLURM tasks running ``command``: ``sbatch --wait ... --nodes=N
        --ntasks-per-node=R [--gpus-per-node=G] --wrap 'srun --kill-on-bad-exit=1 COMMAND'``
        (or ``srun`` with the same resources inside an allocation). A rank that dies ends the
        others; the next start resumes from the last checkpoint."""
        command = ["srun", "--kill-on-bad-exit=1", *[str(c) for c in command]]
        resources = self.resource_args(job_name, log_prefix, training=True)
        if self.launcher == "srun":
            return [command[0], *resources, *command[1:]]
        return ["sbatch", "--wait", "--parsable", *resources, "--wrap", self.shell_join(command)]
