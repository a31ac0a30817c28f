"""bioimage.io model packages (format 0.5): export a trained run, import a package as an
architecture. Needs the optional ``bioimageio.spec`` (``pip install bioimageio.spec``).

An exported package holds the whole DaCapo model (architecture, prediction head and eval
activation) as a PyTorch state dict (rebuilt by ``dacapo_model`` from the stored architecture and
task configs) and as TorchScript, a test input (a crop of the run's raw as DaCapo feeds it to
the network: the raw config's normalisation applied) and the model's output on it, the voxel
sizes and the task's channel names.
"""

from __future__ import annotations

import datetime
import io
import os
import warnings
import tempfile
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np
import torch
from funlib.geometry import Coordinate, Roi

from dacapo.config import ConfigError
from dacapo.utils.checkpoints import load_checkpoint

from .torch_module_architecture import WrappedModule

_SPATIAL_IDS = ("z", "y", "x")
_UNITS = {"nm": "nanometer", "nanometer": "nanometer", "um": "micrometer", "µm": "micrometer",
          "micrometer": "micrometer", "mm": "millimeter", "pm": "picometer", "angstrom": "angstrom"}


def _spec():
    try:
        import bioimageio.spec
        from bioimageio.spec.model import v0_5
    except ImportError:
        raise ConfigError(
            "bioimage.io support needs the optional package bioimageio.spec: pip install bioimageio.spec"
        ) from None
    return bioimageio.spec, v0_5


def _one_line(exc: BaseException) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:600]


# --- import ---------------------------------------------------------------------------------------
def load_package(config):
    """The package's ``ModelDescr`` (read offline; a one-line ``ConfigError`` when invalid)."""
    spec, v0_5 = _spec()
    source = Path(config.source).expanduser()
    where = f"{type(config).__name__} {config.name!r}: source={str(source)!r}"
    if not source.exists():
        raise ConfigError(f"{where} does not exist")
    try:
        descr = spec.load_model_description(source, perform_io_checks=False)
    except Exception as exc:
        raise ConfigError(f"{where} cannot be read as a bioimage.io model ({_one_line(exc)})") from None
    if not isinstance(descr, v0_5.ModelDescr):
        summary = getattr(descr, "validation_summary", None)
        errors = getattr(summary, "errors", None) or []
        first = f": {errors[0].loc}: {errors[0].msg}" if errors else ""
        raise ConfigError(
            f"{where} is not a valid bioimage.io model of format 0.5 "
            f"(format {getattr(descr, 'format_version', '?')}{' '.join(first.split())})"
        )
    return descr


def _read(source) -> bytes:
    from bioimageio.spec.utils import get_reader

    return get_reader(source).read()


def _spatial_layout(config, descr):
    """``(num_in_channels, minimal or fixed spatial input size, voxel size)`` of the single
    input, whose axes must be batch, channel (optional), then space."""
    if len(descr.inputs) != 1 or len(descr.outputs) != 1:
        raise ConfigError(
            f"{type(config).__name__} {config.name!r}: source={str(config.source)!r} has "
            f"{len(descr.inputs)} inputs and {len(descr.outputs)} outputs; DaCapo needs one of each"
        )
    axes = list(descr.inputs[0].axes)
    types = [a.type for a in axes]
    if types[:1] != ["batch"] or any(t != "space" for t in types[1 + (types[1:2] == ["channel"]):]):
        raise ConfigError(
            f"{type(config).__name__} {config.name!r}: source={str(config.source)!r} has input "
            f"axes {types}; DaCapo needs batch, channel (optional) and space axes in this order"
        )
    channels = len(axes[1].channel_names) if types[1] == "channel" else 1
    sizes = []  # (minimal size, step): step 0 for a fixed size, None where not given
    for axis in axes:
        if axis.type != "space":
            continue
        size = axis.size
        if isinstance(size, int):
            sizes.append((size, 0))
        else:
            sizes.append((getattr(size, "min", None), getattr(size, "step", None)))
    voxel_size = [a.scale for a in axes if a.type == "space"]
    return channels, sizes, voxel_size, types[1] == "channel"


class _AddChannelAxis(torch.nn.Module):
    """For packages whose input has no channel axis: DaCapo passes one channel."""

    def __init__(self, module: torch.nn.Module):
        super().__init__()
        self.inner = module

    def forward(self, x):
        return self.inner(x[:, 0])


def _module_from(config, descr) -> torch.nn.Module:
    weights = descr.weights
    wanted = config.weights_format
    if wanted is None:
        wanted = "pytorch_state_dict" if weights.pytorch_state_dict is not None else "torchscript"
    entry = getattr(weights, wanted, None)
    if entry is None:
        available = [f for f in ("pytorch_state_dict", "torchscript") if getattr(weights, f, None) is not None]
        raise ConfigError(
            f"{type(config).__name__} {config.name!r}: weights_format={wanted!r} is not in the package "
            f"(it has: {', '.join(available) or 'no PyTorch weights'})"
        )
    try:
        data = io.BytesIO(_read(entry.source))
        if wanted == "torchscript":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                module = torch.jit.load(data, map_location="cpu")
        else:
            module = _build_architecture(entry.architecture)
            state = load_checkpoint(data, name=entry.source)
            module.load_state_dict(state)
    except ConfigError:
        raise
    except Exception as exc:
        raise ConfigError(
            f"{type(config).__name__} {config.name!r}: the {wanted} weights of "
            f"source={str(config.source)!r} cannot be loaded ({_one_line(exc)})"
        ) from None
    return module


def _build_architecture(architecture) -> torch.nn.Module:
    import importlib
    import importlib.util

    kwargs = dict(architecture.kwargs or {})
    if hasattr(architecture, "import_from"):
        module = importlib.import_module(architecture.import_from)
    else:  # ArchitectureFromFileDescr: a python file inside the package
        code = _read(architecture.source)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "bioimageio_architecture.py"
            path.write_bytes(code)
            spec = importlib.util.spec_from_file_location(f"bioimageio_architecture_{abs(hash(code))}", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
    return getattr(module, str(architecture.callable))(**kwargs)


def _check_sizes(config, sizes, input_shape: Coordinate, increase) -> None:
    """The package's input sizes are its contract (a traced TorchScript model may silently
    compute wrong outputs at other sizes): fixed, or minimum plus a multiple of the step."""
    where = f"{type(config).__name__} {config.name!r}"
    if input_shape.dims != len(sizes):
        raise ConfigError(f"{where}: input_shape={input_shape!r} has {input_shape.dims} axes, the package's input {len(sizes)}")
    shapes = [("input_shape", input_shape)]
    if increase is not None:
        shapes.append(("eval_shape_increase", input_shape + Coordinate(increase)))
    allowed = ", ".join(
        "?" if m is None else (str(m) if step == 0 else f"{m}+{step}n") for m, step in sizes
    )
    for field, shape in shapes:
        for size, (minimum, step) in zip(shape, sizes):
            if minimum is None or step is None:
                continue
            if size < minimum or (step == 0 and size != minimum) or (step and (size - minimum) % step):
                value = input_shape if field == "input_shape" else increase
                raise ConfigError(
                    f"{where}: {field}={value!r} gives an input of {tuple(shape)} voxels; the package "
                    f"accepts ({allowed})"
                )


class BioImageIOArchitecture(WrappedModule):
    """A bioimage.io model's network as an Architecture (input: batch, channels, space)."""

    def __init__(self, architecture_config):
        descr = load_package(architecture_config)
        channels, sizes, voxel_size, has_channel_axis = _spatial_layout(architecture_config, descr)
        module = _module_from(architecture_config, descr)
        if not has_channel_axis:
            module = _AddChannelAxis(module)
        input_shape = architecture_config.input_shape
        if input_shape is None:
            if any(m is None for m, _ in sizes):
                raise ConfigError(
                    f"{type(architecture_config).__name__} {architecture_config.name!r}: input_shape=None "
                    "and the package does not give all input sizes: set input_shape"
                )
            input_shape = Coordinate(m for m, _ in sizes)
        _check_sizes(architecture_config, sizes, input_shape, architecture_config.eval_shape_increase)
        self.package_voxel_size = voxel_size
        self.description = descr.name
        super().__init__(
            architecture_config,
            module,
            input_shape,
            channels,
            eval_shape_increase=architecture_config.eval_shape_increase,
        )


# --- export ---------------------------------------------------------------------------------------
def dacapo_model(architecture_config: dict, task_config: dict) -> torch.nn.Module:
    """The DaCapo model (architecture, prediction head, eval activation) of stored configs: the
    architecture callable of exported ``pytorch_state_dict`` weights."""
    from dacapo.store.converter import structure
    from dacapo.experiments.architectures import ArchitectureConfig
    from dacapo.experiments.tasks import TaskConfig

    architecture = structure(architecture_config, ArchitectureConfig)
    task = structure(task_config, TaskConfig)
    return task.task_type(task).predictor.create_model(architecture.architecture_type(architecture))


def _test_input(run, model) -> tuple[np.ndarray, Coordinate, list[str]]:
    """A crop (the model's input shape) at the centre of the first validation (else training)
    dataset's raw, as DaCapo reads it: ``(1, channels, *spatial)`` float32."""
    from dacapo.experiments.datasplits.datasets.arrays.array_utils import read_padded

    datasets = list(run.datasplit.validate) or list(run.datasplit.train)
    raw = datasets[0].raw
    voxel_size = Coordinate(raw.voxel_size)
    shape = Coordinate(model.input_shape) * voxel_size
    offset = Coordinate(raw.roi.offset)
    begin = offset + (raw.roi.shape - shape) / 2 / voxel_size * voxel_size  # on the raw's grid
    data = read_padded(raw, Roi(begin, shape)).astype(np.float32, copy=False)
    if int(getattr(raw, "channel_dims", 0)) == 0:
        data = data[np.newaxis]
    units = list(getattr(raw, "units", None) or ["nm"] * voxel_size.dims)
    return data[np.newaxis], voxel_size, units


def _space_axes(v0_5, sizes, voxel_size, units, output: bool, reference=None):
    ids = _SPATIAL_IDS[-len(sizes):] if len(sizes) <= 3 else [f"d{i}" for i in range(len(sizes))]
    axes = []
    for i, (axis_id, size, scale, unit) in enumerate(zip(ids, sizes, voxel_size, units)):
        if reference is not None:
            size = v0_5.SizeReference(tensor_id=v0_5.TensorId(reference[0]), axis_id=v0_5.AxisId(axis_id),
                                      offset=int(size - reference[1][i]))
        kind = v0_5.SpaceOutputAxis if output else v0_5.SpaceInputAxis
        axes.append(kind(id=v0_5.AxisId(axis_id), size=size, scale=float(scale), unit=_UNITS.get(unit)))
    return axes


def export_bioimageio(
    run_name: str,
    iteration: int,
    output: Path,
    *,
    authors: Sequence[str] = (),
    license: str = "CC-BY-4.0",
    description: Optional[str] = None,
    torchscript: bool = True,
) -> Path:
    """Write the bioimage.io package (a zip) of ``run_name``'s weights at ``iteration`` to
    ``output`` (atomically); returns its path."""
    spec, v0_5 = _spec()
    from dacapo.experiments.run import Run
    from dacapo.store.converter import unstructure
    from dacapo.store.create_store import create_config_store, create_weights_store

    run_config = create_config_store().retrieve_run_config(run_name)
    run = Run(run_config, load_starter_model=False)
    state = create_weights_store().retrieve_weights(run_name, iteration)["model"]
    model = run.model
    model.load_state_dict(state)
    model.eval()

    test_input, voxel_size, units = _test_input(run, model)
    with torch.no_grad():
        test_output = model(torch.from_numpy(test_input)).numpy().astype(np.float32)
    out_voxel_size = Coordinate(model.scale(voxel_size))
    in_sizes = list(test_input.shape[2:])
    out_sizes = list(test_output.shape[2:])
    in_channels = int(test_input.shape[1])
    out_channels = int(test_output.shape[1])
    channel_names = list(run.task.channels)
    if len(channel_names) != out_channels:
        channel_names = [f"c{i}" for i in range(out_channels)]

    output = Path(output).expanduser()
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=output.parent) as tmp:
        tmp = Path(tmp)
        np.save(tmp / "test_input.npy", test_input)
        np.save(tmp / "test_output.npy", test_output)
        torch.save(model.state_dict(), tmp / "weights.pt")
        (tmp / "README.md").write_text(_documentation(run_config, iteration, voxel_size, out_voxel_size))
        pytorch_version = v0_5.Version(torch.__version__.split("+")[0])
        weights: dict[str, Any] = {
            "pytorch_state_dict": v0_5.PytorchStateDictWeightsDescr(
                source=tmp / "weights.pt",
                architecture=v0_5.ArchitectureFromLibraryDescr(
                    callable=v0_5.Identifier("dacapo_model"),
                    import_from=__name__,
                    kwargs={
                        "architecture_config": unstructure(run_config.architecture_config),
                        "task_config": unstructure(run_config.task_config),
                    },
                ),
                pytorch_version=pytorch_version,
            )
        }
        if torchscript:  # traced at the package's (fixed) input size
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore", torch.jit.TracerWarning)
                warnings.simplefilter("ignore", DeprecationWarning)
                traced = torch.jit.trace(model, torch.from_numpy(test_input), check_trace=False)
            traced.save(str(tmp / "model.torchscript.pt"))
            weights["torchscript"] = v0_5.TorchscriptWeightsDescr(
                source=tmp / "model.torchscript.pt", pytorch_version=pytorch_version, parent="pytorch_state_dict"
            )
        same_grid = out_voxel_size == voxel_size
        descr = v0_5.ModelDescr(
            name=run_name,
            description=description or f"DaCapo run {run_name!r} at iteration {iteration}",
            authors=[v0_5.Author(name=a) for a in (authors or [os.environ.get("USER") or "DaCapo user"])],
            cite=[v0_5.CiteEntry(text="DaCapo", url="https://github.com/janelia-cellmap/dacapo")],
            license=license,
            documentation=v0_5.FileDescr(source=tmp / "README.md"),
            tags=["dacapo", f"{len(in_sizes)}d"],
            timestamp=datetime.datetime.now(datetime.timezone.utc),
            inputs=[
                v0_5.InputTensorDescr(
                    id=v0_5.TensorId("raw"),
                    axes=[
                        v0_5.BatchAxis(),
                        v0_5.ChannelAxis(channel_names=[v0_5.Identifier(f"raw{i}") for i in range(in_channels)]),
                        *_space_axes(v0_5, in_sizes, voxel_size, units, output=False),
                    ],
                    test_tensor=v0_5.FileDescr(source=tmp / "test_input.npy"),
                    data=v0_5.IntervalOrRatioDataDescr(type="float32"),
                )
            ],
            outputs=[
                v0_5.OutputTensorDescr(
                    id=v0_5.TensorId("prediction"),
                    axes=[
                        v0_5.BatchAxis(),
                        v0_5.ChannelAxis(channel_names=[v0_5.Identifier(n) for n in channel_names]),
                        *_space_axes(
                            v0_5, out_sizes, out_voxel_size, units, output=True,
                            reference=("raw", in_sizes) if same_grid else None,
                        ),
                    ],
                    test_tensor=v0_5.FileDescr(source=tmp / "test_output.npy"),
                    data=v0_5.IntervalOrRatioDataDescr(type="float32"),
                )
            ],
            weights=v0_5.WeightsDescr(**weights),
            config=v0_5.Config(bioimageio=v0_5.BioimageioConfig(
                reproducibility_tolerance=_tolerances(v0_5, test_output)
            )),
        )
        partial = tmp / "package.zip"
        spec.save_bioimageio_package(descr, output_path=partial)
        os.replace(partial, output)
    return output


def _tolerances(v0_5, test_output: np.ndarray) -> list:
    """bioimageio.spec (0.5.14) requires the absolute tolerance to be at most 1 % of the test
    output's (signed) maximum, which no tolerance satisfies when that maximum is <= 0: such
    packages state no tolerance (consumers use their defaults)."""
    peak = float(test_output.max())
    if peak <= 0:
        return []
    return [v0_5.ReproducibilityTolerance(
        output_ids=[v0_5.TensorId("prediction")], relative_tolerance=1e-3, absolute_tolerance=min(1e-3, 0.01 * peak)
    )]


def _documentation(run_config, iteration: int, voxel_size, out_voxel_size) -> str:
    return (
        f"# {run_config.name}\n\n"
        f"Trained with [DaCapo](https://github.com/janelia-cellmap/dacapo): weights of iteration "
        f"{iteration}.\n\n"
        f"- task: {type(run_config.task_config).__name__} `{run_config.task_config.name}`\n"
        f"- architecture: {type(run_config.architecture_config).__name__} "
        f"`{run_config.architecture_config.name}`\n"
        f"- input voxel size: {tuple(voxel_size)}, output voxel size: {tuple(out_voxel_size)}\n\n"
        "The input is the raw data as DaCapo feeds it to the network (after the raw array "
        "config's normalisation, typically intensities scaled to [0, 1]).\n"
    )


__all__ = ["BioImageIOArchitecture", "dacapo_model", "export_bioimageio", "load_package"]
