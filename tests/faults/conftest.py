"""The fault-injection suite's tally: kills, injected faults and bad inputs tried, and the checks
that found nothing lost. Printed at the end of the pytest run and written as JSON to
``$DACAPO_FAULT_REPORT`` (default: ``fault-report.json`` in pytest's base temp directory)."""

from __future__ import annotations

import collections
import json
import os
from pathlib import Path

import pytest


class FaultTally:
    def __init__(self):
        self.counts = collections.Counter()  # kills, faults, bad_inputs, checks
        self.details = collections.Counter()  # "<kind>:<what>" -> count
        self.failed_tests: list[str] = []
        self.tests = 0

    def add(self, kind: str, what: str, n: int = 1) -> None:
        self.counts[kind] += n
        self.details[f"{kind}:{what}"] += n

    def kill(self, what: str) -> None:
        self.add("kills", what)

    def fault(self, what: str) -> None:
        self.add("faults", what)

    def bad_input(self, what: str, n: int = 1) -> None:
        self.add("bad_inputs", what, n)

    def checked(self, what: str, n: int = 1) -> None:
        """A check that nothing was lost passed."""
        self.add("checks", what, n)

    def preserved(self, what: str, expected: dict, found: dict) -> list:
        """An integrity check: every item of ``expected`` (name -> digest of its content) is in
        ``found`` unchanged. Counts the items kept and lost; returns the names of those lost."""
        lost = sorted(name for name, digest in expected.items() if found.get(name) != digest)
        self.add("kept", what, len(expected) - len(lost))
        self.add("lost", what, len(lost))
        return lost

    def summary(self) -> dict:
        return {
            "kills": self.counts["kills"],
            "faults_injected": self.counts["faults"],
            "bad_inputs": self.counts["bad_inputs"],
            "checks_passed": self.counts["checks"],
            "data_lost": self.counts["lost"],
            "data_checked": self.counts["kept"] + self.counts["lost"],
            "tests": self.tests,
            "failed_tests": self.failed_tests,
            "nothing_lost": not self.failed_tests and self.tests > 0,
            "details": dict(sorted(self.details.items())),
        }


TALLY = FaultTally()
HERE = Path(__file__).parent


@pytest.fixture(scope="session")
def tally() -> FaultTally:
    return TALLY


_OWN_TESTS: set[str] = set()


def pytest_itemcollected(item):
    if Path(item.path).resolve().is_relative_to(HERE.resolve()):
        _OWN_TESTS.add(item.nodeid)


def pytest_runtest_logreport(report):
    if report.when != "call" and not report.failed:
        return
    if report.nodeid not in _OWN_TESTS:
        return
    if report.when == "call":
        TALLY.tests += 1
    if report.failed:
        TALLY.failed_tests.append(report.nodeid)


def pytest_terminal_summary(terminalreporter, config):
    if TALLY.tests == 0 and not TALLY.failed_tests:
        return
    summary = TALLY.summary()
    path = os.environ.get("DACAPO_FAULT_REPORT")
    if path is None:
        basetemp = getattr(config, "_tmp_path_factory", None)
        base = basetemp.getbasetemp() if basetemp is not None else Path.cwd()
        path = Path(base) / "fault-report.json"
    Path(path).write_text(json.dumps(summary, indent=1))
    verdict = "nothing lost" if summary["nothing_lost"] else f"FAILED: {', '.join(summary['failed_tests'])}"
    terminalreporter.write_sep("-", "fault injection")
    terminalreporter.write_line(
        f"faults suite: {summary['kills']} kills, {summary['faults_injected']} injected faults, "
        f"{summary['bad_inputs']} bad inputs tried, {summary['checks_passed']} integrity checks; "
        f"{verdict} (report: {path})"
    )
    terminalreporter.write_line(
        f"data lost: {summary['data_lost']} (of {summary['data_checked']} stored items compared "
        "before and after)"
    )


@pytest.fixture
def cli_env(options):
    """The environment of ``dacapo`` child processes: this test's options, one thread."""
    from dacapo.options import Options

    env = {**os.environ, **Options.export_environment(options), "OMP_NUM_THREADS": "1"}
    env.pop("DACAPO_FAULT_INJECT", None)
    return env
