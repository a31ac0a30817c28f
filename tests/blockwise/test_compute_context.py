"""Compute contexts: the command lines they build, their devices, and their selection by the
options (``compute_context`` in dacapo.yaml or ``DACAPO_COMPUTE_CONTEXT``)."""

import json
import os

import pytest

from dacapo.compute_context import Bsub, LocalTorch, Slurm, create_compute_context
from dacapo.compute_context.compute_context import available_cpus

WORKER = ["/venv/bin/python", "-m", "dacapo.blockwise.worker", "/data/out.zarr/.blockwise/p/workers/predict.pkl",
          "--run-id", "r1"]


def test_bsub_command_line():
    bsub = Bsub(queue="gpu_h100", num_gpus=1, num_cpus=12, billing="cellmap")
    assert bsub.wrap_command(WORKER, job_name="dacapo-predict", log_prefix="/logs/predict-worker0") == [
        "bsub", "-K", "-q", "gpu_h100", "-n", "12", "-gpu", "num=1", "-J", "dacapo-predict",
        "-o", "/logs/predict-worker0.%J.out", "-e", "/logs/predict-worker0.%J.err",
        "-P", "cellmap", *WORKER,
    ]
    assert str(bsub.device) == "cuda"
    assert bsub.distribute_workers and bsub.num_threads(8) == 12


def test_bsub_defaults_and_cpu_only():
    assert Bsub().wrap_command(["echo", "hi"]) == [
        "bsub", "-K", "-q", "local", "-n", "1", "-gpu", "num=1", "-J", "dacapo", "echo", "hi",
    ]
    cpu = Bsub(num_gpus=0, wait=False, extra_args="-W 60 -R 'rusage[mem=4000]'")
    assert cpu.wrap_command(["echo"]) == [
        "bsub", "-q", "local", "-n", "1", "-J", "dacapo", "-W", "60", "-R", "rusage[mem=4000]", "echo",
    ]
    assert str(cpu.device) == "cpu"


def test_slurm_command_lines():
    slurm = Slurm(partition="gpu", num_gpus=2, num_cpus=8, mem="32G", time="2:00:00", account="lab")
    assert slurm.wrap_command(["python", "-m", "w", "a b"], job_name="dacapo-x", log_prefix="/l/x") == [
        "sbatch", "--wait", "--parsable", "--job-name=dacapo-x", "--partition=gpu", "--ntasks=1",
        "--cpus-per-task=8", "--gres=gpu:2", "--mem=32G", "--time=2:00:00", "--account=lab",
        "--output=/l/x.%j.out", "--error=/l/x.%j.err", "--export=ALL", "--wrap", "python -m w 'a b'",
    ]
    srun = Slurm(launcher="srun", num_cpus=2)
    assert srun.wrap_command(["python", "w.py"]) == [
        "srun", "--job-name=dacapo", "--ntasks=1", "--cpus-per-task=2", "--export=ALL", "python", "w.py",
    ]
    assert str(slurm.device) == "cuda" and str(srun.device) == "cpu"
    with pytest.raises(ValueError):
        Slurm(launcher="qsub")


def test_local_torch():
    local = LocalTorch(device="cpu")
    assert str(local.device) == "cpu"
    assert local.scheduler_host == "127.0.0.1"
    assert local.in_process(1) and not LocalTorch(distribute_workers=True).in_process(1)
    assert local.max_workers(1000) == available_cpus()
    assert LocalTorch(oversubscribe=True).max_workers(1000) == 1000
    assert local.wrap_command(["echo", 1]) == ["echo", "1"]
    with pytest.raises(ValueError):
        LocalTorch(device="tpu")


def test_selected_by_options(tmp_path, monkeypatch):
    monkeypatch.setenv("DACAPO_OPTIONS_FILE", str(tmp_path / "dacapo.yaml"))
    monkeypatch.delenv("DACAPO_COMPUTE_CONTEXT", raising=False)
    (tmp_path / "dacapo.yaml").write_text(
        "compute_context:\n  type: Bsub\n  config:\n    queue: gpu_a100\n    billing: cellmap\n"
    )
    assert create_compute_context() == Bsub(queue="gpu_a100", billing="cellmap")
    monkeypatch.setenv(
        "DACAPO_COMPUTE_CONTEXT", json.dumps({"type": "Slurm", "config": {"partition": "debug"}})
    )
    assert create_compute_context() == Slurm(partition="debug")
    monkeypatch.setenv("DACAPO_COMPUTE_CONTEXT", json.dumps({"type": "Condor", "config": {}}))
    with pytest.raises(ValueError, match="unknown type 'Condor'"):
        create_compute_context()
    monkeypatch.setenv("DACAPO_COMPUTE_CONTEXT", json.dumps({"type": "Slurm", "config": {"gpus": 1}}))
    with pytest.raises(ValueError, match="Slurm"):
        create_compute_context()


def test_execute_passes_options_to_the_worker(tmp_path, monkeypatch):
    """``execute`` runs the wrapped command with the DaCapo options in its environment."""
    monkeypatch.setenv("DACAPO_OPTIONS_FILE", str(tmp_path / "none.yaml"))
    monkeypatch.setenv("DACAPO_RUNS_BASE_DIR", str(tmp_path / "runs"))
    out = tmp_path / "env.txt"
    status = LocalTorch().execute(["sh", "-c", f"echo $DACAPO_RUNS_BASE_DIR > {out}"])
    assert status == 0 and out.read_text().strip() == str(tmp_path / "runs")


FAKE_BSUB = r'''#!/usr/bin/env python3
"""A stand-in for LSF's bsub -K: runs the job's command here and waits for it."""
import os, subprocess, sys
args = sys.argv[1:]
with_value = {"-q", "-n", "-gpu", "-J", "-o", "-e", "-P", "-W", "-R"}
options, i = {}, 0
while i < len(args) and args[i].startswith("-"):
    if args[i] in with_value:
        options[args[i]] = args[i + 1]
        i += 2
    else:
        options[args[i]] = True
        i += 1
assert "-K" in options, "dacapo waits for its workers"
job = str(os.getpid())
with open(options["-o"].replace("%J", job), "w") as out, open(options["-e"].replace("%J", job), "w") as err:
    sys.exit(subprocess.call(args[i:], stdout=out, stderr=err, env=dict(os.environ, LSB_JOBID=job)))
'''


def _record_block(block, output):
    """A block function for the Bsub test (module level: workers import it)."""
    from pathlib import Path

    Path(output, "_".join(map(str, block.write_roi.offset))).write_text("done")


@pytest.mark.slow
def test_bsub_workers_connect_back(tmp_path, monkeypatch):
    """The whole Bsub path with a stand-in ``bsub``: worker specs, the environment
    (DAISY_CONTEXT, DACAPO_*) and the exit status travel through the wrapped command."""
    from funlib.geometry import Roi

    from dacapo.blockwise import Bookkeeping, run_blockwise

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "bsub").write_text(FAKE_BSUB)
    (bin_dir / "bsub").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("DACAPO_OPTIONS_FILE", str(tmp_path / "none.yaml"))
    monkeypatch.setenv("DACAPO_RUNS_BASE_DIR", str(tmp_path / "runs"))
    output = tmp_path / "out"
    output.mkdir()
    run_blockwise(
        _record_block, Roi((0, 0), (40, 30)), Roi((0, 0), (10, 10)), Roi((0, 0), (10, 10)),
        num_workers=2, compute_context=Bsub(num_gpus=0, host="127.0.0.1"),
        bookkeeping=tmp_path / "book", progress=False, output=str(output),
    )
    assert len(list(output.iterdir())) == 12
    records = Bookkeeping(tmp_path / "book").done()
    assert len(records) == 12 and all(r.get("job") for r in records.values())
    assert list((tmp_path / "book" / "workers" / "logs").glob("*.out"))
