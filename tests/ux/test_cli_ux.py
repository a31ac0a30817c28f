"""Every command has --help; `dacapo config` writes dacapo.yaml from flags or prompts;
--log-level DEBUG shows tracebacks that the default keeps to one line."""

import stat

import pytest
import yaml
from click.testing import CliRunner

from dacapo.cli import cli
from dacapo.options import Options
from dacapo.store.create_store import create_config_store


def _commands():
    return sorted(cli.commands)


@pytest.mark.parametrize("command", [[]] + [[name] for name in _commands()])
def test_every_command_has_help(command):
    result = CliRunner().invoke(cli, command + ["--help"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Usage:") and "--help" in result.output


def test_expected_commands():
    assert {"train", "validate", "apply", "predict", "run-blockwise", "segment-blockwise",
            "config", "ls", "plot", "view"} <= set(cli.commands)


def test_config_from_flags(options, tmp_path, monkeypatch):
    path = tmp_path / "conf" / "dacapo.yaml"
    args = ["config", "-o", str(path), "--type", "files", "--runs-base-dir", str(tmp_path / "r"),
            "--compute-context", "Slurm"]
    result = CliRunner().invoke(cli, args, input="")
    assert result.exit_code == 0, result.output
    data = yaml.safe_load(path.read_text())
    assert data == {"type": "files", "runs_base_dir": str(tmp_path / "r"),
                    "compute_context": {"type": "Slurm", "config": {}}}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    monkeypatch.setenv("DACAPO_OPTIONS_FILE", str(path))
    monkeypatch.delenv("DACAPO_RUNS_BASE_DIR")
    assert Options.instance().runs_base_dir == tmp_path / "r"

    # never replaced without --force
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1 and "exists; add --force" in result.output
    result = CliRunner().invoke(cli, args[:-2] + ["--force", "--no-input"])
    assert result.exit_code == 0
    assert yaml.safe_load(path.read_text())["compute_context"]["type"] == "LocalTorch"


def test_config_interactive(options, tmp_path, monkeypatch):
    path = tmp_path / "dacapo.yaml"
    monkeypatch.setenv("DACAPO_OPTIONS_FILE", str(path))  # the default output
    answers = "mongo\n/scratch/me\nmongodb://u:secret@db:27017/\n\nBsub\n"
    result = CliRunner().invoke(cli, ["config"], input=answers)
    assert result.exit_code == 0, result.output
    assert "Store type" in result.output and "MongoDB database [dacapo]" in result.output
    data = yaml.safe_load(path.read_text())
    assert data == {"type": "mongo", "runs_base_dir": "/scratch/me",
                    "mongodbhost": "mongodb://u:secret@db:27017/", "mongodbname": "dacapo",
                    "compute_context": {"type": "Bsub", "config": {}}}


def test_config_checks_before_writing(options, tmp_path):
    path = tmp_path / "dacapo.yaml"
    result = CliRunner().invoke(cli, ["config", "-o", str(path), "--type", "mongo", "--no-input"])
    assert result.exit_code == 1 and "mongodbhost" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not path.exists()


def test_log_level_debug_shows_the_traceback(options):
    quiet = CliRunner().invoke(cli, ["ls", "--no-configs"])
    assert quiet.exit_code == 0
    assert quiet.output.strip() == f"no runs in {create_config_store()}"
    result = CliRunner().invoke(cli, ["validate", "-r", "missing", "-i", "1"])
    assert result.exit_code == 1 and result.output.count("\n") == 1
    result = CliRunner().invoke(cli, ["--log-level", "DEBUG", "validate", "-r", "missing", "-i", "1"])
    assert result.exit_code != 0 and result.exception is not None  # raised: the traceback shows


def test_any_failure_ends_in_one_error_line():
    """Also exceptions that are not ``Exception``s (a Rust extension's PanicException)."""
    import logging

    import click

    root = logging.getLogger()
    level = root.level

    from dacapo.cli import DacapoGroup

    class PanicException(BaseException):
        pass

    @click.group(cls=DacapoGroup)
    def group():
        pass

    @group.command()
    def boom():
        raise PanicException("assertion failed: start <= axis_len\nstack backtrace: ...")

    root.setLevel(logging.WARNING)  # DEBUG (left by another test) would show the traceback
    try:
        result = CliRunner().invoke(group, ["boom"])
    finally:
        root.setLevel(level)
    assert result.exit_code == 1
    assert result.output.strip() == "Error: PanicException: assertion failed: start <= axis_len"
