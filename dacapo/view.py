"""``dacapo view``: a neuroglancer view of a run's raw, gt, validation predictions and outputs.

Neuroglancer reads zarr/N5 over HTTP but ignores funlib's ``voxel_size``/``offset`` attributes,
so each layer's source carries an explicit transform: output dimensions scaled by the array's
voxel size (nm) and a translation of ``offset / voxel_size`` voxels. ``ViewServer`` serves the
arrays (only the layers' own directories, with CORS headers) and, when the ``neuroglancer``
package is installed, the neuroglancer client itself, so the link works without network.
"""

from __future__ import annotations

import functools
import http.server
import json
import logging
import os
import threading
import urllib.parse
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence

import attrs
import numpy as np

logger = logging.getLogger(__name__)

PUBLIC_CLIENT = "https://neuroglancer-demo.appspot.com/"


@attrs.frozen
class Layer:
    name: str
    path: Path  # the array's directory
    kind: str  # "image" or "segmentation"
    voxel_size: tuple[int, ...]  # world units (nm), spatial axes
    offset: tuple[int, ...]  # world units (nm)
    shape: tuple[int, ...]  # all axes, channel axes first
    format: str = "zarr"  # "zarr" (v2), "zarr3" or "n5"

    @property
    def spatial_dims(self) -> int:
        return len(self.voxel_size)

    @property
    def voxel_offset(self) -> tuple[float, ...]:
        return tuple(o / v for o, v in zip(self.offset, self.voxel_size))


def _format(path: Path) -> str:
    if (path / ".zarray").is_file():
        return "zarr"
    if (path / "zarr.json").is_file():
        return "zarr3"
    if (path / "attributes.json").is_file():
        return "n5"
    raise FileNotFoundError(f"{path} is not a zarr or N5 array")


def _array_path(array, container: Path, dataset: str) -> Path:
    source = getattr(array, "_source_data", None)
    resolved = getattr(source, "path", None)  # a multiscale group resolves to one of its levels
    return Path(container) / (resolved if isinstance(resolved, str) and resolved else dataset)


def layer_from_array(name: str, array, path: Path, kind: Optional[str] = None) -> Layer:
    """A layer for an opened funlib-style ``array`` stored at ``path``."""
    dtype = np.dtype(array.dtype)
    if kind is None:
        kind = "segmentation" if dtype.kind in "iu" and dtype.itemsize >= 4 else "image"
    return Layer(
        name=name,
        path=Path(path).resolve(),
        kind=kind,
        voxel_size=tuple(int(v) for v in array.voxel_size),
        offset=tuple(int(o) for o in array.roi.offset),
        shape=tuple(int(s) for s in array.shape),
        format=_format(Path(path)),
    )


def stored_array_layer(name: str, location: str, kind: Optional[str] = None) -> Layer:
    """A layer for ``container.zarr/dataset`` (anything ``ZarrArrayConfig`` reads)."""
    from dacapo.experiments.datasplits.datasets.arrays import ZarrArrayConfig

    container, dataset = _split_location(location)
    config = ZarrArrayConfig(name=name, file_name=container, dataset=dataset)
    array = config.array("r")
    return layer_from_array(name, array, _array_path(array, container, dataset), kind)


def _split_location(location: str) -> tuple[Path, str]:
    parts = Path(location).parts
    for i, part in enumerate(parts):
        if part.endswith((".zarr", ".n5", ".zr")):
            return Path(*parts[: i + 1]), "/".join(parts[i + 1 :])
    raise ValueError(f"array {location!r}: expected <container>.zarr/<dataset> (or .n5)")


def _stored_source(config):
    """The innermost ``ZarrArrayConfig`` a derived array config reads (raw, gt), or ``None``."""
    from dacapo.experiments.datasplits.datasets.arrays import ZarrArrayConfig

    seen = 0
    while config is not None and seen < 32:
        if isinstance(config, ZarrArrayConfig):
            return attrs.evolve(config, snap_to_grid=None)
        config = getattr(config, "source_array_config", None)
        seen += 1
    return None


def run_layers(run_name: str, iteration: Optional[int] = None) -> list[Layer]:
    """Raw and gt of each validation dataset, the validation prediction of ``iteration``
    (default: the dataset's best iteration, else the last validated one) and the stored
    outputs of that iteration."""
    from dacapo.store.create_store import (
        create_array_store,
        create_config_store,
        create_weights_store,
    )

    config = create_config_store().retrieve_run_config(run_name)
    datasplit = config.datasplit_config
    datasets = getattr(datasplit, "validate_configs", None)
    if datasets is None:
        datasets = [d.config for d in datasplit.datasplit_type(datasplit).validate]
    array_store = create_array_store()
    best = create_weights_store().retrieve_best_all(run_name)
    validation = array_store.validation_container(run_name).container
    validated = sorted(int(p.name) for p in validation.glob("*") if p.name.isdigit()) \
        if validation.is_dir() else []

    layers = []
    for dataset in datasets:
        for role in ("raw", "gt"):
            array_config = getattr(dataset, f"{role}_config", None)
            stored = _stored_source(array_config)
            if stored is None:
                logger.warning("%s %s of %s is not stored in a container: not shown",
                               dataset.name, role, run_name)
                continue
            array = stored.array("r")
            layers.append(layer_from_array(
                f"{dataset.name} {role}", array,
                _array_path(array, stored.file_name, stored.dataset),
                kind="segmentation" if role == "gt" and np.dtype(array.dtype).kind in "iu" else "image",
            ))
        chosen = iteration
        if chosen is None:
            chosen = best.get(dataset.name, {}).get("best")
            candidates = [i for i in validated if (validation / str(i) / dataset.name).is_dir()]
            if chosen is None or chosen not in candidates:
                chosen = candidates[-1] if candidates else None
        if chosen is None:
            continue
        prediction = array_store.validation_prediction_array(run_name, chosen, dataset.name)
        if (prediction.container / prediction.dataset).is_dir():
            layers.append(stored_array_layer(
                f"{dataset.name} prediction @{chosen}", str(prediction.container / prediction.dataset), "image"))
        outputs = validation / str(chosen) / dataset.name / "output"
        for output in sorted(outputs.glob("*")) if outputs.is_dir() else []:
            layers.append(stored_array_layer(
                f"{dataset.name} output {output.name} @{chosen}", str(output)))
    return layers


# --- neuroglancer state ------------------------------------------------------------------------
def _spatial_names(dims: int) -> list[str]:
    return ["z", "y", "x"][-dims:] if dims <= 3 else [f"d{i}" for i in range(dims)]


def layer_source(layer: Layer, url: str) -> dict:
    """The layer's data source with the transform that places it in world coordinates."""
    rank = len(layer.shape)
    channels = rank - layer.spatial_dims
    output = {}
    for i in range(channels):
        output["c^" if channels == 1 else f"c{i}^"] = [1, ""]
    for name, size in zip(_spatial_names(layer.spatial_dims), layer.voxel_size):
        output[name] = [size * 1e-9, "m"]
    translation = [0.0] * channels + list(layer.voxel_offset)
    matrix = []
    for row in range(rank):
        column = rank - 1 - row if layer.format == "n5" else row  # N5 lists its axes x, y, z
        matrix.append([1 if c == column else 0 for c in range(rank)] + [translation[row]])
    return {
        "url": f"{layer.format}://{url}",
        "transform": {"outputDimensions": output, "matrix": matrix},
    }


def neuroglancer_state(layers: Sequence[Layer], url_of: Callable[[Path], str]) -> dict:
    """A neuroglancer viewer state; ``url_of(path)`` is the HTTP URL of an array directory."""
    if not layers:
        raise ValueError("nothing to view: no arrays found")
    dims = max(layer.spatial_dims for layer in layers)
    finest = [min(layer.voxel_size[i] for layer in layers if layer.spatial_dims == dims)
              for i in range(dims)]
    first = next(layer for layer in layers if layer.spatial_dims == dims)
    spatial_shape = first.shape[-dims:]
    centre = [(o + s * v / 2) / f for o, s, v, f in
              zip(first.offset, spatial_shape, first.voxel_size, finest)]
    state = {
        "dimensions": {n: [v * 1e-9, "m"] for n, v in zip(_spatial_names(dims), finest)},
        "position": centre,
        "crossSectionScale": 1,
        "layers": [],
        "layout": "4panel" if dims == 3 else "xy",
    }
    for layer in layers:
        entry = {"type": layer.kind, "name": layer.name, "source": layer_source(layer, url_of(layer.path))}
        if layer.kind == "image" and len(layer.shape) == layer.spatial_dims + 1 and layer.shape[0] >= 3:
            entry["shader"] = _RGB_SHADER  # the first three channels
        state["layers"].append(entry)
    return state


_RGB_SHADER = (
    "void main() {\n  emitRGB(vec3(toNormalized(getDataValue(0)), toNormalized(getDataValue(1)), "
    "toNormalized(getDataValue(2))));\n}\n"
)


def neuroglancer_link(state: dict, client_url: str) -> str:
    text = json.dumps(state, separators=(",", ":"))
    return client_url.rstrip("/") + "/#!" + urllib.parse.quote(text, safe="")


# --- serving ----------------------------------------------------------------------------------
def _client_directory() -> Optional[Path]:
    """The neuroglancer client shipped in the ``neuroglancer`` package, if installed."""
    try:
        import importlib.resources

        client = importlib.resources.files("neuroglancer.static").joinpath("client")
    except (ImportError, ModuleNotFoundError):
        return None
    client = Path(str(client))
    return client if (client / "index.html").is_file() else None


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


class _Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *args, roots: Sequence[Path], client: Optional[Path], **kwargs):
        self.roots = roots
        self.client = client
        super().__init__(*args, directory=str(client or "/nonexistent"), **kwargs)

    def translate_path(self, path: str) -> str:
        path = urllib.parse.unquote(urllib.parse.urlsplit(path).path)
        if path.startswith("/data/"):
            target = Path(os.path.normpath("/" + path[len("/data/"):]))
            resolved = target.resolve()  # a symlink planted inside an array must not lead out
            if any(_inside(target, root) and _inside(resolved, root) for root in self.roots):
                return str(resolved)
            return "/nonexistent"
        if self.client is None:
            return "/nonexistent"
        return super().translate_path(path)

    def list_directory(self, path):  # never list directories
        self.send_error(404)
        return None

    def end_headers(self) -> None:
        self.send_header("Access-Control-Allow-Origin", "*")
        super().end_headers()

    def log_message(self, format, *args) -> None:
        logger.debug("view: " + format, *args)


class ViewServer:
    """Serves the layers' array directories under ``/data/<absolute path>`` and the bundled
    neuroglancer client (if any) at ``/``, on a background thread."""

    def __init__(self, layers: Iterable[Layer], host: str = "127.0.0.1", port: int = 0):
        self.layers = list(layers)
        self.client = _client_directory()
        roots = sorted({layer.path for layer in self.layers})
        handler = functools.partial(_Handler, roots=roots, client=self.client)
        self.server = http.server.ThreadingHTTPServer((host, port), handler)
        self.server.daemon_threads = True
        self.host = host
        self.thread = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        shown = self.host if self.host not in ("0.0.0.0", "") else _hostname()
        return f"http://{shown}:{port}"

    def data_url(self, path: Path) -> str:
        return f"{self.url}/data{urllib.parse.quote(str(Path(path).resolve()))}"

    def link(self, client_url: Optional[str] = None) -> str:
        state = neuroglancer_state(self.layers, self.data_url)
        client = client_url or (self.url if self.client is not None else PUBLIC_CLIENT)
        return neuroglancer_link(state, client)

    def start(self) -> "ViewServer":
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _hostname() -> str:
    import socket

    return socket.getfqdn()
