"""Writing ``dacapo.yaml`` (``dacapo config``): checked by ``DaCapoOptions`` before anything is
written, replaced atomically, readable by its owner only (a MongoDB URI may hold a password)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import yaml

HEADER = (
    "# DaCapo options, written by `dacapo config`. Every key can be overridden by a\n"
    "# DACAPO_<KEY> environment variable, e.g. DACAPO_RUNS_BASE_DIR=/scratch/me/dacapo.\n"
)


def default_options_path() -> Path:
    if os.environ.get("DACAPO_OPTIONS_FILE"):
        return Path(os.environ["DACAPO_OPTIONS_FILE"]).expanduser()
    return Path("~/.config/dacapo/dacapo.yaml").expanduser()


def write_options(
    path: Path,
    type: str = "files",
    runs_base_dir: str = "~/dacapo",
    mongodbhost: Optional[str] = None,
    mongodbname: Optional[str] = None,
    compute_context: str = "LocalTorch",
) -> Path:
    from dacapo.options import DaCapoOptions
    from dacapo.store._files import atomic_write

    values = {"type": type, "runs_base_dir": str(runs_base_dir)}
    if type == "mongo":
        values.update(mongodbhost=mongodbhost, mongodbname=mongodbname)
    values["compute_context"] = {"type": compute_context, "config": {}}
    DaCapoOptions(**values)  # a ConfigError names what is wrong before anything is written
    text = HEADER + yaml.safe_dump(values, sort_keys=False)

    def write(f) -> None:
        os.fchmod(f.fileno(), 0o600)
        f.write(text.encode())

    path = Path(path)
    atomic_write(path, write)
    return path
