"""Workers as LSF jobs (``bsub``)."""

from __future__ import annotations

from typing import Optional, Sequence

import attrs

from .compute_context import (
    ClusterContext,
    gpus_per_node_field,
    nodes_field,
    ranks_per_node_field,
)


def _str_list(value) -> list:
    if value is None:
        return []
    if isinstance(value, str):
        import shlex

        return shlex.split(value)
    return [str(v) for v in value]


@attrs.frozen
class Bsub(ClusterContext):
    """Every worker is an LSF job: ``bsub -K -q QUEUE -n NUM_CPUS [-gpu num=NUM_GPUS] -J NAME
    -o LOG.%J.out -e LOG.%J.err [-P BILLING] [EXTRA...] COMMAND...``. ``-K`` makes ``bsub`` wait
    for the job and return its exit status (daisy restarts failed workers). The job inherits
    the submitting environment (LSF's default), which carries daisy's ``DAISY_CONTEXT`` (the
    scheduler's address) and the DaCapo options; the scheduler listens on every interface and
    tells workers this host's address (``host`` overrides it)."""

    queue: str = attrs.field(default="local", metadata={"help_text": "LSF queue (-q)"})
    num_gpus: int = attrs.field(default=1, converter=int, metadata={"help_text": "GPUs per worker (-gpu num=N)"})
    num_cpus: int = attrs.field(default=1, converter=int, metadata={"help_text": "CPU slots per worker (-n)"})
    billing: Optional[str] = attrs.field(default=None, metadata={"help_text": "project to bill (-P)"})
    job_name: str = attrs.field(default="dacapo", metadata={"help_text": "job name (-J)"})
    wait: bool = attrs.field(default=True, converter=bool, metadata={"help_text": "bsub -K: wait for the job"})
    extra_args: list = attrs.field(factory=list, converter=_str_list, metadata={"help_text": "more bsub arguments"})
    host: Optional[str] = attrs.field(default=None, metadata={"help_text": "scheduler address workers connect to"})
    nodes: int = nodes_field()
    gpus_per_node: int = gpus_per_node_field()
    ranks_per_node: Optional[int] = ranks_per_node_field()
    rank_launcher: list = attrs.field(
        factory=lambda: ["mpirun"], converter=_str_list,
        metadata={"help_text": "starts one process per slot of a training job; may use {ranks}, "
                               "{ranks_per_node}, {nodes}, {num_cpus}, e.g. 'jsrun -n {ranks} -a 1 -g 1'"},
    )

    def wrap_command(self, command: Sequence[str], *, job_name: Optional[str] = None,
                     log_prefix: Optional[str] = None) -> list[str]:
        wrapped = self._submit(job_name, log_prefix, ["-n", str(self.num_cpus)], self.num_gpus)
        return wrapped + list(self.extra_args) + [str(c) for c in command]

    def train_command(self, command: Sequence[str], *, job_name: Optional[str] = None,
                      log_prefix: Optional[str] = None) -> list[str]:
        """One LSF job of ``nodes`` × ``ranks`` slots (``-n``, ``-R span[ptile=ranks]``,
        ``-gpu num=gpus_per_node``) whose ``rank_launcher`` (default ``mpirun``, which starts one
        process per slot) runs ``command`` on every rank."""
        slots = ["-n", str(self.nodes * self.ranks), "-R", f"span[ptile={self.ranks}]"]
        wrapped = self._submit(job_name, log_prefix, slots, self.gpus_per_node)
        sizes = {"ranks": self.nodes * self.ranks, "ranks_per_node": self.ranks,
                 "nodes": self.nodes, "num_cpus": self.num_cpus}
        launcher = [part.format(**sizes) for part in self.rank_launcher]
        return wrapped + list(self.extra_args) + launcher + [str(c) for c in command]

    def _submit(self, job_name, log_prefix, slots: list, gpus: int) -> list[str]:
        wrapped = ["bsub"]
        if self.wait:
            wrapped.append("-K")
        wrapped += ["-q", self.queue, *slots]
        if gpus > 0:
            wrapped += ["-gpu", f"num={gpus}"]
        wrapped += ["-J", job_name or self.job_name]
        if log_prefix is not None:
            wrapped += ["-o", f"{log_prefix}.%J.out", "-e", f"{log_prefix}.%J.err"]
        if self.billing is not None:
            wrapped += ["-P", str(self.billing)]
        return wrapped
