"""`dacapo view`: neuroglancer layers of a run at their true voxel size and offset, served over
HTTP with the neuroglancer client."""

import json
import urllib.error
import urllib.parse
import urllib.request

import numpy as np
import pytest
from click.testing import CliRunner
from funlib.persistence import open_ds

from dacapo.cli import cli
from dacapo.view import ViewServer, neuroglancer_state, run_layers, stored_array_layer

from .conftest import VAL_OFFSET

pytestmark = pytest.mark.slow


def _by_name(state):
    return {layer["name"]: layer for layer in state["layers"]}


def _check_source(layer, array):
    """The layer's transform puts voxel index 0 at the array's offset, scaled by its voxel size."""
    source = layer["source"]
    assert source["url"].startswith("zarr://http")
    transform = source["transform"]
    dims = transform["outputDimensions"]
    spatial = [name for name in dims if not name.endswith("^")]
    assert spatial == ["z", "y", "x"]
    assert [dims[n] for n in spatial] == [[v * 1e-9, "m"] for v in array.voxel_size]
    matrix = np.array(transform["matrix"], dtype=float)
    rank = len(array.shape)
    assert matrix.shape == (rank, rank + 1)
    assert np.array_equal(matrix[:, :rank], np.eye(rank))
    spatial_translation = matrix[rank - 3 :, rank]
    assert np.array_equal(spatial_translation * np.array(array.voxel_size), array.roi.offset)


def test_run_layers_and_state(trained_run, tmp_path):
    from dacapo.utils.synthetic import write_cells

    options, config = trained_run
    layers = run_layers(config.name)
    names = [layer.name for layer in layers]
    assert names[:2] == ["val raw", "val gt"] and names[2].startswith("val prediction @")
    raw, gt, prediction = layers[:3]
    assert raw.kind == "image" and gt.kind == "segmentation" and prediction.kind == "image"
    assert raw.offset == VAL_OFFSET and raw.voxel_offset == (5, 10, 15)

    # an extra array at another voxel size and offset (as from `dacapo apply`)
    extra = write_cells(tmp_path / "extra.zarr", (20, 10, 10), voxel_size=(4, 8, 8),
                        offset=(12, 24, 40), seed=4, num_objects=2)
    layers.append(stored_array_layer("extra labels", str(extra.container / "labels")))
    assert layers[-1].kind == "segmentation" and layers[-1].voxel_offset == (3, 3, 5)

    state = neuroglancer_state(layers, lambda path: f"http://h:1/data{path}")
    by_name = _by_name(state)
    assert state["dimensions"] == {"z": [4e-9, "m"], "y": [8e-9, "m"], "x": [8e-9, "m"]}
    for layer in layers:
        _check_source(by_name[layer.name], open_ds(str(layer.path)))
        assert by_name[layer.name]["source"]["url"] == f"zarr://http://h:1/data{layer.path}"
    assert "c^" in by_name[prediction.name]["source"]["transform"]["outputDimensions"]
    # the view opens at the centre of the first layer (in the finest voxels)
    centre = [o + 48 * 8 / 2 for o in VAL_OFFSET]
    assert state["position"] == [centre[0] / 4, centre[1] / 8, centre[2] / 8]


def test_serve(trained_run):
    options, config = trained_run
    layers = run_layers(config.name)
    with ViewServer(layers) as server:
        link = server.link()
        state = json.loads(urllib.parse.unquote(link.split("#!", 1)[1]))
        raw_url = _by_name(state)["val raw"]["source"]["url"][len("zarr://"):]
        with urllib.request.urlopen(raw_url + "/.zarray") as response:
            assert response.headers["Access-Control-Allow-Origin"] == "*"
            metadata = json.loads(response.read())
        assert metadata["shape"] == [48, 48, 48]
        with urllib.request.urlopen(raw_url + "/0.0.0") as response:  # a chunk
            assert len(response.read()) > 0
        root = str(layers[0].path)  # .../val_offset.zarr/raw
        train_raw = str(layers[0].path.parent.parent / "train.zarr" / "raw" / ".zarray")
        assert urllib.request.urlopen(server.url + "/data" + root + "/.zarray").status == 200
        for outside in ("/data/etc/passwd", "/data" + train_raw,
                        "/data" + root + "/%2E%2E/%2E%2E/train.zarr/raw/.zarray", "/data" + root):
            with pytest.raises(urllib.error.HTTPError) as error:
                urllib.request.urlopen(server.url + outside)
            assert error.value.code == 404
        if server.client is not None:  # the neuroglancer package's client: works offline
            assert link.startswith(server.url + "/#!")
            with urllib.request.urlopen(server.url + "/") as response:
                assert b"neuroglancer" in response.read().lower()
        else:
            assert link.startswith("https://neuroglancer-demo.appspot.com/#!")


def test_view_command_lists_layers(trained_run):
    options, config = trained_run
    result = CliRunner().invoke(cli, ["view", "-r", config.name])
    assert result.exit_code == 0, result.output
    assert "val raw:" in result.output and f"offset {VAL_OFFSET}" in result.output
    result = CliRunner().invoke(cli, ["view"])
    assert result.exit_code == 2 and "name a run" in result.output
    result = CliRunner().invoke(cli, ["view", "-a", "not/a/container"])
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1
