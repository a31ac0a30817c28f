"""The CellMap example end to end in its small mode: generated layout → datasplit → training →
prediction → submission zip → score."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cellmap" / "cellmap_challenge.py"


@pytest.mark.slow
def test_example_small_mode(tmp_path):
    env = {**os.environ, "CELLMAP_EXAMPLE_SMALL": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), "--out", str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["iterations"] == 12
    assert 0 <= summary["overall_score"] <= 1
    assert set(summary["label_scores"]) == {"mito", "mito_mem", "ecs"}
    assert summary["label_scores"]["ecs"]["iou"] > 0  # background is learnt within a few steps
    with zipfile.ZipFile(summary["submission"]) as archive:
        names = set(archive.namelist())
    for crop in ("crop4", "crop8"):
        for label in ("mito", "mito_mem", "ecs"):
            assert f"{crop}/{label}/.zarray" in names and f"{crop}/{label}/.zattrs" in names
    assert (tmp_path / "datasplit.csv").read_text().count("\n") == 6
