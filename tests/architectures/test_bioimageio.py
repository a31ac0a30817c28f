"""bioimage.io: export a trained run as a model package that bioimageio.spec validates, import
it as an architecture that reproduces the package's test output and can be fine-tuned."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from funlib.geometry import Coordinate

from dacapo.config import ConfigError
from dacapo.experiments.architectures import BioImageIOArchitectureConfig

spec = pytest.importorskip("bioimageio.spec")


def _trained_run(tmp_path):
    from dacapo.experiments.run import Run
    from dacapo.store.create_store import create_config_store
    from dacapo.train import train_run
    from e2e.helpers import small_run_config

    config = small_run_config(tmp_path, name="bioimageio_run", iterations=1, validation_interval=1)
    create_config_store().store_run_config(config)
    train_run(Run(config), validate=False)
    return config


def _one_line(excinfo) -> str:
    message = str(excinfo.value)
    assert "\n" not in message
    return message


@pytest.mark.slow
def test_export_validates_and_import_reproduces_the_test_output(options, tmp_path):
    from bioimageio.spec.model import v0_5

    from dacapo.experiments.architectures.bioimageio_cli import export_bioimageio_command

    config = _trained_run(tmp_path)
    package = tmp_path / "export" / "model.zip"
    result = CliRunner().invoke(
        export_bioimageio_command,
        ["-r", config.name, "-i", "1", "-o", str(package), "--author", "Ada"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(package)

    # bioimageio.spec's own validation, with its file checks (sha256 of every file)
    descr = spec.load_description(package, perform_io_checks=True)
    assert isinstance(descr, v0_5.ModelDescr), descr.validation_summary.format()
    assert descr.validation_summary.status in ("valid-format", "passed")
    (raw,), (prediction,) = descr.inputs, descr.outputs
    assert [a.type for a in raw.axes] == ["batch", "channel", "space", "space", "space"]
    assert [a.size for a in raw.axes[2:]] == [36, 36, 36]
    assert [a.scale for a in raw.axes[2:]] == [8.0, 8.0, 8.0]
    assert {a.unit for a in raw.axes[2:]} == {"nanometer"}
    assert prediction.axes[1].channel_names == ["cell"]  # the task's channels
    assert descr.authors[0].name == "Ada"
    with zipfile.ZipFile(package) as archive:
        names = set(archive.namelist())
        assert {"rdf.yaml", "test_input.npy", "test_output.npy", "weights.pt", "model.torchscript.pt"} <= names
        archive.extractall(tmp_path / "unpacked")
    test_input = np.load(tmp_path / "unpacked" / "test_input.npy")
    test_output = np.load(tmp_path / "unpacked" / "test_output.npy")
    assert test_input.shape == (1, 1, 36, 36, 36) and test_input.std() > 0

    # import: both weight formats, from the zip and from the unpacked folder
    for source, weights_format in [(package, None), (tmp_path / "unpacked", "torchscript")]:
        imported = BioImageIOArchitectureConfig("imported", source=source, weights_format=weights_format)
        architecture = imported.architecture_type(imported)
        assert architecture.input_shape == Coordinate(36, 36, 36)
        assert architecture.num_in_channels == 1 and architecture.num_out_channels == 1
        assert architecture.compute_output_shape(Coordinate(36, 36, 36)) == Coordinate(test_output.shape[2:])
        architecture.eval()
        with torch.no_grad():
            predicted = architecture(torch.from_numpy(test_input)).numpy()
        np.testing.assert_allclose(predicted, test_output, rtol=1e-5, atol=1e-6)

    # the package's fixed input size is its contract
    with pytest.raises(ConfigError) as excinfo:
        wrong = BioImageIOArchitectureConfig("imported", source=package, eval_shape_increase=(8, 8, 8))
        wrong.architecture_type(wrong)
    assert "eval_shape_increase=(8, 8, 8) gives an input of (44, 44, 44) voxels; the package accepts (36, 36, 36)" in _one_line(excinfo)

    # fine-tuning: the imported weights train
    architecture.train()
    optimizer = torch.optim.SGD(architecture.parameters(), lr=0.1)
    before = [p.detach().clone() for p in architecture.parameters()]
    loss = architecture(torch.from_numpy(test_input)).square().mean()
    loss.backward()
    optimizer.step()
    assert any(not torch.equal(a, b) for a, b in zip(before, architecture.parameters()))


def test_import_errors_are_one_line(tmp_path):
    missing = BioImageIOArchitectureConfig("imported", source=tmp_path / "nothing.zip")
    with pytest.raises(ConfigError) as excinfo:
        missing.architecture_type(missing)
    assert _one_line(excinfo) == f"BioImageIOArchitectureConfig 'imported': source='{tmp_path}/nothing.zip' does not exist"
    ok, message = missing.verify()
    assert not ok and "does not exist" in message

    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "rdf.yaml").write_text(json.dumps({"type": "model", "format_version": "0.5.4"}))
    broken = BioImageIOArchitectureConfig("imported", source=tmp_path / "empty")
    with pytest.raises(ConfigError) as excinfo:
        broken.architecture_type(broken)
    message = _one_line(excinfo)
    assert "cannot be read as a bioimage.io model" in message and "inputs: Field required" in message

    with pytest.raises(ConfigError) as excinfo:
        BioImageIOArchitectureConfig("imported", source=tmp_path, weights_format="onnx")
    assert "weights_format='onnx' must be one of" in _one_line(excinfo)
