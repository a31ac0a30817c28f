"""Real data end to end: the ISBI 2012 stack converted to zarr, a datasplit generated from a CSV,
trained and validated (examples/isbi2012/train_isbi2012.py)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dacapo.options import Options
from dacapo.store.create_store import create_stats_store, create_weights_store

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO.parent / "shared" / "data" / "isbi2012"


@pytest.mark.skipif(not SOURCE.exists(), reason="the shared ISBI 2012 data is not beside the repo")
def test_isbi_csv_datasplit_trains_and_validates(options, tmp_path):
    env = {**os.environ, **Options.export_environment(options)}
    result = subprocess.run(
        [sys.executable, str(REPO / "examples" / "isbi2012" / "train_isbi2012.py"),
         "--source", str(SOURCE), "--output", str(tmp_path / "isbi"), "--iterations", "10",
         "--validation-interval", "10", "--input-size", "124", "--num-fmaps", "4"],
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    run = "isbi2012_cell_run"
    assert create_weights_store().latest_iteration(run) == 10
    scores = create_stats_store().retrieve_validation_iteration_scores(run)
    assert [s.iteration for s in scores] == [10]
    assert (tmp_path / "isbi" / "isbi2012_train.zarr").exists() or any((tmp_path / "isbi").iterdir())
