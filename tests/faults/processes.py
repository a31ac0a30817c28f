"""``dacapo`` command lines in real processes that tests can SIGKILL, started cheaply.

Each command runs in a child forked from a multiprocessing *forkserver* that has imported torch,
gunpowder and DaCapo once (a fresh interpreter spends seconds importing them; a fork takes
milliseconds). The child sets its environment, sends its output to a log file and runs the CLI
exactly as ``python -m dacapo.cli ...`` would, with one torch thread (so that results are
deterministic and equal between processes)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
from pathlib import Path
from typing import Callable, Optional, Sequence

PRELOAD = ["torch", "torch._dynamo", "torch.utils.tensorboard", "gunpowder", "zarr", "dacapo.cli", "dacapo.train", "dacapo.validate",
           "dacapo.experiments.run"]
CONTEXT = multiprocessing.get_context("forkserver")
CONTEXT.set_forkserver_preload(PRELOAD)


def _run_cli(argv: list[str], env: dict, log: str, file_size_limit: Optional[int]) -> None:
    os.environ.clear()
    os.environ.update(env)
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    if file_size_limit is not None:  # a full disk: writes past the limit fail with EFBIG
        import resource

        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))
    import torch

    torch.set_num_threads(1)
    from dacapo.cli import cli

    code = 0
    try:
        cli.main(args=argv, prog_name="dacapo", standalone_mode=True)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


class CliProcess:
    """``dacapo <argv>`` running in a child process; ``env`` is its whole environment."""

    def __init__(self, argv: Sequence[str], env: dict, log: Path,
                 file_size_limit: Optional[int] = None, daemon: bool = True):
        """``daemon=False`` for a command that starts processes of its own (data workers)."""
        self.argv = list(argv)
        self.log = Path(log)
        self.process = CONTEXT.Process(
            target=_run_cli, args=(self.argv, dict(env), str(log), file_size_limit), daemon=daemon
        )
        self.process.start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process.exitcode is None and self.process.is_alive()

    def kill(self) -> int:
        """SIGKILL; returns the exit code (``-9``, or the code it had already exited with)."""
        if self.running():
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.join(60)
        return self.process.exitcode

    def wait(self, timeout: float = 300) -> int:
        self.process.join(timeout)
        if self.process.exitcode is None:
            self.kill()
            raise TimeoutError(f"dacapo {' '.join(self.argv)} ran longer than {timeout} s")
        return self.process.exitcode

    def wait_until(self, condition: Callable[[], bool], timeout: float = 120) -> bool:
        """Poll ``condition`` while the process runs; False if it exited first."""
        deadline = time.monotonic() + timeout
        while not condition():
            if not self.running():
                return condition()
            if time.monotonic() > deadline:
                raise TimeoutError(f"condition not reached while running dacapo {' '.join(self.argv)}")
            time.sleep(0.01)
        return True

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def error_lines(self) -> list[str]:
        """The lines the CLI printed as its error (``Error: ...``)."""
        return [line for line in self.output.splitlines() if line.startswith("Error:")]


def run_cli(argv, env, log, **kwargs) -> CliProcess:
    process = CliProcess(argv, env, log, **kwargs)
    process.wait()
    return process


def one_error_line(process: CliProcess, *needles: str) -> str:
    """Assert the command failed (exit 1) with one ``Error:`` line, no traceback, containing
    every needle; returns the line."""
    assert process.process.exitcode == 1, process.output[-3000:]
    errors = process.error_lines()
    assert len(errors) == 1 and "Traceback" not in process.output, process.output[-3000:]
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]
