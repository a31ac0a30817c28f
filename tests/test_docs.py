"""The docs site builds without warnings, and its generated pages cover every registered config
class, every CLI command, every dacapo.yaml option and every compute context."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import click
import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    assert "WARNING" not in log, log[-3000:]
    return out


def _ids(page: Path) -> set[str]:
    return set(re.findall(r'id="([^"]+)"', page.read_text(encoding="utf-8")))


def _commands(group: click.Group, prefix: str) -> list[str]:
    names = []
    for name, command in group.commands.items():
        names.append(f"{prefix}-{name}")
        if isinstance(command, click.Group):
            names += _commands(command, f"{prefix}-{name}")
    return names


def _registered_config_classes() -> list[str]:
    """The registry as a fresh process sees it (this one may have imported more config modules)."""
    code = (
        "from dacapo.config import CONFIG_TYPES, import_config_families; "
        "import_config_families(); print(' '.join(CONFIG_TYPES))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return result.stdout.split()


def test_every_config_class_is_documented(site):
    ids = _ids(site / "configs" / "index.html")
    registered = _registered_config_classes()
    assert {"RunConfig", "ZarrArrayConfig", "CNNectomeUNetConfig"} <= set(registered)
    missing = [name for name in registered if name.lower() not in ids]
    assert not missing, missing
    page = (site / "configs" / "index.html").read_text(encoding="utf-8")
    # fields with their help text, e.g. the UNet's downsample_factors
    assert "downsample_factors" in page and "Downsample factors of the levels" in page


def test_every_cli_command_is_documented(site):
    from dacapo.cli import cli

    ids = _ids(site / "cli" / "index.html")
    commands = _commands(cli, "dacapo")
    assert {"dacapo-train", "dacapo-apply"} <= set(commands)
    missing = [command for command in commands if command not in ids]
    assert not missing, missing
    assert "Sentinel" not in (site / "cli" / "index.html").read_text(encoding="utf-8")  # no unset defaults


def test_options_and_compute_contexts_are_documented(site):
    import attrs

    from dacapo.compute_context import COMPUTE_CONTEXTS
    from dacapo.options import DaCapoOptions

    started = (site / "getting-started" / "index.html").read_text(encoding="utf-8")
    for field in attrs.fields(DaCapoOptions):
        if field.name != "config_file":
            assert f"<code>{field.name}</code>" in started, field.name
    cluster = _ids(site / "cluster" / "index.html")
    assert {name.lower() for name in COMPUTE_CONTEXTS} <= cluster
