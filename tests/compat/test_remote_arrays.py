"""ZarrArrayConfig over fsspec: a real S3-compatible server (moto's server mode) and a real HTTP
server, both on 127.0.0.1; no mock of any client."""

from __future__ import annotations

import functools
import http.server
import re
import threading
from collections import Counter

import numpy as np
import pytest
import zarr
from funlib.geometry import Coordinate, Roi
from funlib.persistence import prepare_ds

import dacapo
from dacapo.config import ConfigError
from dacapo.experiments.datasplits.datasets.arrays import ZarrArrayConfig
from dacapo.experiments.datasplits.datasets.arrays import _remote
from dacapo.experiments.datasplits import DataSplitGenerator
from dacapo.store.converter import structure, unstructure
from dacapo.store.create_store import create_config_store
from dacapo.utils.synthetic import make_cells, write_array

pytest.importorskip("s3fs")
moto_server = pytest.importorskip("moto.server")

_CHUNK = re.compile(r"/\d+(\.\d+)*$")


def _write_volume(root):
    """A 3D uint8 volume (chunks 4³) with funlib metadata, and an OME-NGFF multiscale group."""
    data = np.arange(8 * 8 * 8, dtype=np.uint8).reshape(8, 8, 8)
    array = prepare_ds(
        str(root / "raw"), shape=data.shape, offset=(8, 8, 8), voxel_size=(2, 2, 2),
        axis_names=["z", "y", "x"], units=["nm"] * 3, chunk_shape=(4, 4, 4), dtype=np.uint8,
    )
    array[array.roi] = data
    zarr.open_group(str(root), mode="a")
    return data


@pytest.fixture(scope="module")
def s3_bucket(tmp_path_factory):
    """A moto S3 server on a free port of 127.0.0.1 holding ``s3://cosem/vol.zarr``."""
    import boto3

    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    root = tmp_path_factory.mktemp("s3src") / "vol.zarr"
    data = _write_volume(root)
    client = boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )
    cells = root.parent / "cells.zarr"
    raw, labels = make_cells((16, 16, 16), seed=5, num_objects=4)
    write_array(cells, "raw", raw, (4, 4, 4), chunks=8)
    write_array(cells, "gt/classes", np.where(labels == 0, 0, 3).astype(np.uint8), (4, 4, 4), chunks=8)
    client.create_bucket(Bucket="cosem")
    for file in root.parent.rglob("*"):
        if file.is_file():
            key = file.relative_to(root.parent).as_posix()
            client.upload_file(str(file), "cosem", key, ExtraArgs={"ACL": "public-read"})
    yield endpoint, data
    server.stop()


@pytest.fixture
def s3_env(s3_bucket, monkeypatch):
    endpoint, data = s3_bucket
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setattr(_remote, "_REMOTE_STORES", {})
    return endpoint, data


def test_s3_with_credentials_reads_and_round_trips(s3_env, monkeypatch, options):
    _, data = s3_env
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    config = ZarrArrayConfig(name="raw", file_name="s3://cosem/vol.zarr", dataset="raw", mode="r")
    assert structure(unstructure(config)) == config
    assert unstructure(config)["file_name"] == "s3://cosem/vol.zarr"
    store = create_config_store()
    store.store_array_config(config)
    assert store.retrieve_array_config("raw") == config
    array = config.array()
    assert array.voxel_size == Coordinate(2, 2, 2)
    assert array.roi == Roi((8, 8, 8), (16, 16, 16))
    np.testing.assert_array_equal(array[Roi((10, 8, 12), (4, 6, 8))], data[1:3, 0:3, 2:6])
    assert "anon" not in _remote.remote_storage_options(config.file_name)


def test_s3_anonymous_without_credentials(s3_env, monkeypatch):
    _, data = s3_env
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY", raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    config = ZarrArrayConfig(name="raw", file_name="s3://cosem/vol.zarr", dataset="raw")
    assert _remote.remote_storage_options(config.file_name) == {"anon": True}
    np.testing.assert_array_equal(config.array()[Roi((8, 8, 8), (16, 16, 16))], data)


def test_s3_missing_dataset_and_writing_are_one_line_errors(s3_env, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with pytest.raises(ConfigError, match=r"dataset='nope' not found") as missing:
        ZarrArrayConfig(name="raw", file_name="s3://cosem/vol.zarr", dataset="nope").array()
    with pytest.raises(ConfigError, match="is remote, which DaCapo reads only") as writing:
        ZarrArrayConfig(name="raw", file_name="s3://cosem/vol.zarr", dataset="raw").array("r+")
    with pytest.raises(ConfigError, match="does not exist"):
        ZarrArrayConfig(name="raw", file_name="s3://cosem/other.zarr", dataset="raw").array()
    for error in (missing, writing):
        assert "\n" not in str(error.value)


def test_datasplit_generated_from_a_csv_of_s3_containers(s3_env, monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    csv = tmp_path / "remote.csv"
    csv.write_text(
        "train,s3://cosem/cells.zarr,raw,s3://cosem/cells.zarr,gt/classes\n"
        "val,s3://cosem/cells.zarr,raw,s3://cosem/cells.zarr,gt/classes\n"
    )
    config = DataSplitGenerator.generate_from_csv(
        csv, (4, 4, 4), (4, 4, 4), class_ids={"cell": [3]}, targets=["cell"],
        min_training_volume_size=0,
    ).compute()
    assert structure(unstructure(config)) == config
    (train,) = config.datasplit().train
    assert str(train.config.raw_config.source_array_config.file_name) == "s3://cosem/cells.zarr"
    gt = train.gt[train.gt.roi]
    assert gt.shape == (1, 16, 16, 16) and 0 < gt.sum() < gt.size


class _CountingHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.requests["GET", self.path] += 1
        super().do_GET()

    def do_HEAD(self):
        self.server.requests["HEAD", self.path] += 1
        super().do_HEAD()


@pytest.fixture(scope="module")
def http_volume(tmp_path_factory):
    """A plain HTTP server (the standard library's) on 127.0.0.1 serving ``vol.zarr``; it counts
    the requests per (method, path)."""
    root = tmp_path_factory.mktemp("httpsrc")
    data = _write_volume(root / "vol.zarr")
    # an OME-NGFF multiscale group (s0 at 2 nm, s1 at 4 nm) and an N5 container
    write_array(root / "ome.zarr", "raw/s0", data, (2, 2, 2), chunks=4)
    write_array(root / "ome.zarr", "raw/s1", data[::2, ::2, ::2].copy(), (4, 4, 4), chunks=4)
    zarr.open_group(str(root / "ome.zarr" / "raw"), mode="a").attrs["multiscales"] = [{
        "version": "0.4",
        "axes": [{"name": n, "type": "space", "unit": "nanometer"} for n in "zyx"],
        "datasets": [
            {"path": f"s{i}", "coordinateTransformations": [{"type": "scale", "scale": [2.0 * 2**i] * 3}]}
            for i in (0, 1)
        ],
    }]
    write_array(root / "vol.n5", "volumes/raw", data, (8, 4, 2), (16, 8, 4), chunks=4)
    write_array(root / "sparse.zarr", "raw", data + 1, (2, 2, 2), chunks=4)
    (root / "sparse.zarr" / "raw" / "0.0.0").unlink()  # a chunk never written: the fill value
    handler = functools.partial(_CountingHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.requests = Counter()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/vol.zarr", data, server.requests
    server.shutdown()
    server.server_close()


def test_http_reads_each_chunk_once(http_volume, monkeypatch):
    """Training reads the same chunks again and again: they come from the network once."""
    url, data, requests = http_volume
    monkeypatch.setattr(_remote, "_REMOTE_STORES", {})
    requests.clear()
    config = ZarrArrayConfig(name="raw", file_name=url, dataset="raw")
    assert structure(unstructure(config)) == config
    roi = Roi((8, 8, 8), (16, 8, 8))  # 2 of the 8 chunks
    np.testing.assert_array_equal(config.array()[roi], data[:, :4, :4])
    chunks = {path for _, path in requests if _CHUNK.search(path)}
    assert chunks == {"/vol.zarr/raw/0/0/0", "/vol.zarr/raw/1/0/0"}
    def dataset_requests():  # the array's metadata and chunks (not the v3/N5 format checks)
        return Counter({
            key: n for key, n in requests.items()
            if key[1].startswith("/vol.zarr/raw/") and not key[1].endswith("zarr.json")
        })

    first = dataset_requests()
    for _ in range(2):  # reopened and read again: none of it goes over the network again
        np.testing.assert_array_equal(config.array()[roi], data[:, :4, :4])
    assert dataset_requests() == first


def test_http_ome_ngff_level_and_n5(http_volume, monkeypatch):
    url, data, _ = http_volume
    monkeypatch.setattr(_remote, "_REMOTE_STORES", {})
    base = url.rsplit("/", 1)[0]
    level = ZarrArrayConfig(name="ome", file_name=f"{base}/ome.zarr", dataset="raw", voxel_size=(4, 4, 4))
    array = level.array()
    assert array.voxel_size == Coordinate(4, 4, 4)
    np.testing.assert_array_equal(array[array.roi], data[::2, ::2, ::2])
    n5 = ZarrArrayConfig(name="n5", file_name=f"{base}/vol.n5", dataset="volumes/raw").array()
    assert (n5.voxel_size, n5.offset) == (Coordinate(8, 4, 2), Coordinate(16, 8, 4))
    np.testing.assert_array_equal(n5[n5.roi], data)


def test_http_chunk_that_was_never_written_reads_as_fill_value(http_volume, monkeypatch):
    url, data, _ = http_volume
    monkeypatch.setattr(_remote, "_REMOTE_STORES", {})
    base = url.rsplit("/", 1)[0]
    array = ZarrArrayConfig(name="sparse", file_name=f"{base}/sparse.zarr", dataset="raw").array()
    expected = data + 1
    expected[:4, :4, :4] = 0
    np.testing.assert_array_equal(array[array.roi], expected)


@pytest.mark.slow
def test_a_run_trains_and_validates_on_s3_data(s3_bucket, s3_env, monkeypatch, tmp_path, options):
    """A small run whose train and validation volumes live in the S3 bucket: its data fetcher
    process and validation read them through fsspec."""
    import attrs
    import boto3

    from dacapo.experiments.datasplits import TrainValidateDataSplitConfig
    from dacapo.store.create_store import create_stats_store, create_weights_store

    from e2e.helpers import dataset_config, small_run_config

    endpoint, _ = s3_env
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    local = small_run_config(tmp_path, name="s3_run", iterations=2, validation_interval=2, num_data_fetchers=1)
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    for container in ("train.zarr", "val.zarr"):
        for file in (tmp_path / container).rglob("*"):
            if file.is_file():
                client.upload_file(str(file), "cosem", f"run/{file.relative_to(tmp_path).as_posix()}")
    datasplit = TrainValidateDataSplitConfig(
        name="cells_on_s3",
        train_configs=[dataset_config("s3://cosem/run/train.zarr", "train")],
        validate_configs=[dataset_config("s3://cosem/run/val.zarr", "val")],
    )
    run_config = attrs.evolve(local, datasplit_config=datasplit)

    from dacapo.experiments.run import Run

    dacapo_run = Run(run_config)
    source = dacapo_run.datasplit.train[0].config.raw_config.source_array_config
    assert str(source.file_name) == "s3://cosem/run/train.zarr"
    dacapo.train_run(dacapo_run)
    assert create_weights_store().iterations("s3_run") == [2]
    scores = create_stats_store().retrieve_validation_iteration_scores("s3_run")
    assert [s.iteration for s in scores] == [2]
