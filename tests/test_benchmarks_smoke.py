"""The cheapest benchmarks run and print valid JSON lines (speed is measured by running them,
never here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def run_json_lines(*args: str, timeout: int = 120) -> list[dict]:
    out = subprocess.run([sys.executable, *args], cwd=BENCHMARKS.parent, check=True,
                         capture_output=True, text=True, timeout=timeout).stdout
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert lines, f"no JSON lines in {out!r}"
    return lines


def test_import_benchmark_prints_its_figure():
    (line,) = run_json_lines(str(BENCHMARKS / "bench_import.py"), "--repeat", "1")
    assert line["bench"] == "import" and 0 < line["best_s"] < 30


def test_run_all_quick_runs_the_named_benchmarks_and_reports_exit_codes():
    lines = run_json_lines(str(BENCHMARKS / "run_all.py"), "--quick", "--only",
                           "bench_import", "bench_distance_target")
    exits = {line["benchmark"]: line["exit_code"] for line in lines if "exit_code" in line}
    assert exits == {"bench_import": 0, "bench_distance_target": 0}
    assert any(line.get("bench") == "import" for line in lines)
    assert len(lines) > 5  # distance-target figures too


def test_array_reads_benchmark_compares_read_with_dask_and_zarr():
    lines = run_json_lines(str(BENCHMARKS / "bench_array_reads.py"), "--roi", "40", "--volume", "64",
                           "--chunks", "16", "--repeats", "1")
    assert {line["array"] for line in lines} == {"intensities", "binarize", "concat"}
    for line in lines:
        assert line["read_ms"] > 0 and line["dask_view_ms"] > 0 and line["bare_zarr_ms"] > 0


@pytest.mark.slow
def test_every_benchmark_runs_in_quick_mode():
    """All of ``run_all.py --quick`` (~1.5 min on 2 cores): no benchmark rots unnoticed."""
    lines = run_json_lines(str(BENCHMARKS / "run_all.py"), "--quick", timeout=600)
    exits = {line["benchmark"]: line["exit_code"] for line in lines if "exit_code" in line}
    assert len(exits) >= 9 and set(exits.values()) == {0}, exits


def test_segment_blockwise_benchmark_reports_time_and_equality():
    lines = run_json_lines(str(BENCHMARKS / "bench_segment_blockwise.py"), "--quick")
    methods = {(line["volume"], line["method"]) for line in lines}
    assert ("cells3d", "whole") in methods and ("cells3d", "mutex") in methods
    for line in lines:
        assert line["seconds"] > 0
        if line["method"] != "whole":
            assert isinstance(line["equal"], bool) and line["voi_split"] >= 0


def test_validation_sweep_benchmark_compares_both_paths():
    lines = run_json_lines(str(BENCHMARKS / "bench_validation_sweep.py"), "--quick")
    assert {line.get("mode") for line in lines} >= {"in_memory", "blockwise"}
    (comparison,) = [line for line in lines if line.get("what") == "comparison"]
    assert comparison["max_abs_difference"] >= 0 and comparison["blockwise_over_in_memory_time"] > 0
