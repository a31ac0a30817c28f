import subprocess
import sys
from pathlib import Path

import pytest

from dacapo.config import ConfigError
from dacapo.options import Options


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for key in ["DACAPO_OPTIONS_FILE", "DACAPO_TYPE", "DACAPO_RUNS_BASE_DIR", "DACAPO_MONGODBHOST",
                "DACAPO_MONGODBNAME", "DACAPO_COMPUTE_CONTEXT", "DACAPO_MONGO_DB_HOST", "DACAPO_VALIDATION_MAX_VOXELS"]:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_defaults_expand_home(clean_env):
    options = Options.instance()
    assert options.type == "files"
    assert options.runs_base_dir == clean_env / "home" / "dacapo"
    assert options.config_file is None


def test_lookup_order_and_env_override(clean_env, monkeypatch):
    (clean_env / "home" / ".config" / "dacapo").mkdir(parents=True)
    (clean_env / "home" / ".config" / "dacapo" / "dacapo.yaml").write_text("runs_base_dir: /c\n")
    assert Options.instance().runs_base_dir == Path("/c")
    (clean_env / "home" / "dacapo.yaml").write_text("runs_base_dir: /b\n")
    assert Options.instance().runs_base_dir == Path("/b")
    (clean_env / "dacapo.yaml").write_text("runs_base_dir: ~/a\n")
    assert Options.instance().runs_base_dir == clean_env / "home" / "a"
    explicit = clean_env / "explicit.yaml"
    explicit.write_text("runs_base_dir: /explicit\n")
    monkeypatch.setenv("DACAPO_OPTIONS_FILE", str(explicit))
    assert Options.instance().runs_base_dir == Path("/explicit")
    monkeypatch.setenv("DACAPO_RUNS_BASE_DIR", "/from-env")
    assert Options.instance().runs_base_dir == Path("/from-env")
    assert Options.instance(runs_base_dir="/kw").runs_base_dir == Path("/kw")


def test_validation_max_voxels(clean_env, monkeypatch):
    assert Options.instance().validation_max_voxels == 256**3
    monkeypatch.setenv("DACAPO_VALIDATION_MAX_VOXELS", "4096")  # (as exported to workers)
    assert Options.instance().validation_max_voxels == 4096


def test_mongo_spellings(clean_env):
    (clean_env / "dacapo.yaml").write_text(
        "type: mongo\nmongo_db_host: mongodb://localhost:1/\nmongodbname: dacapo\n"
    )
    options = Options.instance()
    assert options.mongodbhost == "mongodb://localhost:1/" and options.mongodbname == "dacapo"


@pytest.mark.parametrize(
    "text, message",
    [
        ("type: [unclosed\n", "malformed YAML"),
        ("- a\n- b\n", "expected a mapping"),
        ("runs_base_dri: /x\n", "unknown option 'runs_base_dri'"),
        ("type: sqlite\n", "type must be 'files' or 'mongo'"),
        ("type: mongo\n", "needs both mongodbhost and mongodbname"),
        ("validation_max_voxels: 0\n", "validation_max_voxels must be a positive integer, got 0"),
        ("validation_max_voxels: lots\n", "validation_max_voxels must be a positive integer"),
    ],
)
def test_bad_files_give_one_line(clean_env, text, message):
    (clean_env / "dacapo.yaml").write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        Options.instance()
    assert "\n" not in str(info.value)


def test_export_environment_round_trips(clean_env):
    options = Options.instance(runs_base_dir="/somewhere", compute_context={"type": "Slurm", "config": {"partition": "p"}})
    env = Options.export_environment(options)
    code = "from dacapo.options import Options; o = Options.instance(); print(o.runs_base_dir, o.compute_context['config']['partition'])"
    out = subprocess.run([sys.executable, "-c", code], env={**env, "HOME": str(clean_env)}, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["/somewhere", "p"]


def test_import_loads_nothing_heavy():
    # the import time itself is measured by benchmarks/bench_import.py
    heavy = subprocess.run([sys.executable, "-c", "import sys, dacapo, dacapo.options; from dacapo.experiments import RunConfig; print(sorted(m for m in ('torch', 'gunpowder', 'daisy', 'zarr') if m in sys.modules))"], capture_output=True, text=True, check=True)
    assert heavy.stdout.strip() == "[]"
