"""The examples run in-process: ``example(path)`` loads a script under ``examples/`` as a module;
the ``DACAPO_*`` variables its ``main`` sets are restored after the test."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def example(monkeypatch):
    def load(relative_path: str):
        path = EXAMPLES / relative_path
        spec = importlib.util.spec_from_file_location(path.stem + "_example", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for key in ("DACAPO_RUNS_BASE_DIR", "DACAPO_TYPE", "DACAPO_OPTIONS_FILE"):
            monkeypatch.setenv(key, "")  # the example sets them; restored after the test
        return module

    return load
