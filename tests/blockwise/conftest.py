"""Fixtures of the blockwise tests: one options environment and one trained run for the whole
package (training takes seconds, so it happens once), and a real single-node SLURM cluster."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from funlib.geometry import Roi
from options_isolation import isolate_options

REPO = Path(__file__).resolve().parents[2]
SLURM_LOCAL = REPO.parent / "shared" / "tools" / "slurm-local"

RUN_NAME = "blockwise_run"
ITERATIONS = 2
#: 2 x 2 x 2 blocks of the eval output (36^3 voxels of 8 nm), inside the input's valid region
OUTPUT_ROI = Roi((64, 64, 64), (576, 576, 576))


@pytest.fixture(scope="package")
def blockwise_env(tmp_path_factory):
    """Options pointing every store at one ``runs_base_dir`` for the package; no user
    ``dacapo.yaml`` can leak in (explicit, ``./`` or ``~/``)."""
    root = tmp_path_factory.mktemp("blockwise")
    patch = pytest.MonkeyPatch()
    isolate_options(patch, root)
    yield root
    patch.undo()


@pytest.fixture(scope="package")
def trained_run(blockwise_env):
    """A small 3D UNet trained for 2 iterations on generated cells and validated at the end
    (so the weights store knows a best iteration and the stats store the scores), plus an
    input volume ``input.zarr/raw`` (96^3 voxels of 8 nm)."""
    from dacapo.experiments.run import Run
    from dacapo.store.create_store import create_config_store
    from dacapo.train import train_run
    from dacapo.utils.synthetic import write_cells

    small_run_config = _e2e_helpers().small_run_config

    config = small_run_config(
        blockwise_env / "data", name=RUN_NAME, iterations=ITERATIONS,
        validation_interval=ITERATIONS,
    )
    create_config_store().store_run_config(config)
    train_run(Run(config), device="cpu")
    data = write_cells(blockwise_env / "input.zarr", (96, 96, 96), voxel_size=(8, 8, 8), seed=7,
                       num_objects=10)
    return config, data


def _e2e_helpers():
    """``tests/e2e/helpers.py`` (the small run config on generated data)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "dacapo_tests_e2e_helpers", REPO / "tests" / "e2e" / "helpers.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _slurm_up() -> bool:
    if shutil.which("sinfo") is None:
        return False
    result = subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True, timeout=30)
    return result.returncode == 0 and any(
        state.strip().rstrip("*") in ("idle", "mix", "alloc") for state in result.stdout.split()
    )


@pytest.fixture(scope="session")
def slurm_cluster():
    """A running single-node SLURM cluster: started with ``<repo>/../shared/tools/slurm-local
    up`` (installs slurm-wlm and munge if needed) unless one is already up, and stopped at the
    end if this fixture started it. Skips only when neither that script nor SLURM binaries
    exist."""
    started = False
    if not _slurm_up():
        if SLURM_LOCAL.is_file():
            result = subprocess.run(
                [str(SLURM_LOCAL), "up"], capture_output=True, text=True, timeout=900
            )
            if result.returncode != 0:
                pytest.fail(f"{SLURM_LOCAL} up failed:\n{result.stdout}\n{result.stderr}")
            started = True
        elif shutil.which("sbatch") is None:
            pytest.skip(f"no SLURM here: neither {SLURM_LOCAL} nor SLURM binaries exist")
        if not _slurm_up():
            pytest.fail("SLURM is installed but no node is idle (is slurmctld/slurmd running?)")
    yield
    if started and os.environ.get("DACAPO_KEEP_SLURM") is None:
        subprocess.run([str(SLURM_LOCAL), "down"], capture_output=True, timeout=120)
