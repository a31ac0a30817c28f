"""The ``dacapo`` command line. Errors print as one line; ``--log-level DEBUG`` shows tracebacks."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

EXPECTED_ERRORS = (ValueError, KeyError, FileNotFoundError, RuntimeError, PermissionError, OSError)


class DacapoGroup(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise  # --help, usage errors: click's own handling (Exit is a RuntimeError)
        except EXPECTED_ERRORS as exc:
            if logging.getLogger().isEnabledFor(logging.DEBUG):
                raise
            message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
            click.echo(f"Error: {message}", err=True)
            sys.exit(1)
        except (KeyboardInterrupt, SystemExit, GeneratorExit):
            raise
        except BaseException as exc:
            # anything else, e.g. a panic of a Rust extension (PanicException is a
            # BaseException): still one line, with its type
            if logging.getLogger().isEnabledFor(logging.DEBUG):
                raise
            first = (str(exc).strip().splitlines() or [""])[0]
            click.echo(f"Error: {type(exc).__name__}: {first}".rstrip(": "), err=True)
            sys.exit(1)


@click.group(cls=DacapoGroup)
@click.option(
    "--log-level",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
    default="WARNING",
    show_default=True,
    help="Logging detail; DEBUG also shows full tracebacks.",
)
def cli(log_level: str) -> None:
    """DaCapo: train, validate and apply models on large microscopy volumes."""
    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger().setLevel(log_level.upper())  # also when a handler existed already
    from dacapo.console import configure

    configure(log_level)  # resume, device, progress and validation lines at the default level


@cli.command()
@click.option("-r", "--run-name", required=True, help="Name of a stored run config.")
@click.option("--no-validation", is_flag=True, help="Train without validating.")
@click.option(
    "--background-validation",
    is_flag=True,
    help="Validate each checkpoint in a separate process while training continues.",
)
@click.option(
    "--launch",
    is_flag=True,
    help="Start the training's data-parallel ranks through the compute context (Slurm/Bsub: "
    "nodes x ranks_per_node; LocalTorch: torchrun, one rank per GPU) and wait for them.",
)
@click.option("--iterations", type=click.IntRange(min=1), default=None,
              help="Train for this many iterations in all instead of the config's num_iterations "
                   "(recorded with the run: extends a finished run, keeping its stats, "
                   "checkpoints and validations).")
def train(run_name: str, no_validation: bool, background_validation: bool, launch: bool,
          iterations: int | None) -> None:
    """Train a stored run, resuming from its latest checkpoint. Under torchrun (or srun/jsrun)
    every process trains as one data-parallel rank."""
    if launch:
        from dacapo.train import launch as launch_fn

        status = launch_fn(run_name, validate=not no_validation,
                           background_validation=background_validation, iterations=iterations)
        if status != 0:
            raise click.ClickException(f"training ranks of {run_name} exited with status {status}")
        return
    from dacapo.train import train as train_fn

    train_fn(run_name, validate=not no_validation, background_validation=background_validation,
             iterations=iterations)


@cli.command()
@click.option("-r", "--run-name", required=True, help="Name of a stored run config.")
@click.option("-i", "--iteration", required=True, type=int, help="Checkpoint iteration to validate.")
@click.option("--progress/--no-progress", default=True, show_default=True,
              help="Show a progress bar (training's background validation runs without).")
@click.option("--baselines/--no-baselines", default=True, show_default=True,
              help="Also score reference outputs (instance tasks: one segment, every voxel).")
def validate(run_name: str, iteration: int, progress: bool, baselines: bool) -> None:
    """Validate a stored checkpoint of a run, record its scores and print them (per dataset, one
    line per post-processing setting, one column per criterion; then the one-line summary)."""
    from dacapo.console import validation_summary
    from dacapo.store.create_store import create_config_store
    from dacapo.validate import format_scores
    from dacapo.validate import validate as validate_fn

    scores = validate_fn(run_name, iteration, progress=progress, baselines=baselines)
    if scores is None:
        click.echo(f"run {run_name} has no validation datasets: nothing validated")
        return
    click.echo(format_scores(run_name, scores))
    config = create_config_store().retrieve_run_config(run_name)
    click.echo(validation_summary(run_name, config, iteration)
               or f"validated {run_name} at iteration {iteration}")


# === looking at runs: ls, plot, view; writing dacapo.yaml: config ===============================


@cli.command("ls")
@click.option("--configs/--no-configs", default=True, show_default=True,
              help="Also list the stored configs of each kind.")
def ls(configs: bool) -> None:
    """List the runs (iterations trained, validations, best scores) and the stored configs."""
    from dacapo.listing import config_names, format_configs, format_runs, summarize_runs
    from dacapo.store.create_store import (
        create_config_store,
        create_stats_store,
        create_weights_store,
    )

    config_store = create_config_store()
    stats_store, weights_store = create_stats_store(), create_weights_store()
    names = config_names(config_store)
    summaries, skipped = summarize_runs(names["run"], config_store, stats_store, weights_store)
    if summaries:
        for line in format_runs(summaries):
            click.echo(line)
        click.echo(f"(read from {config_store}, {stats_store} and {weights_store})")
    else:
        click.echo(f"no runs in {config_store}")
    for name, reason in skipped:
        click.echo(f"skipped run {name}: {reason}", err=True)
    if configs:
        click.echo("")
        for line in format_configs(names):
            click.echo(line)


@cli.command()
@click.argument("run_names", nargs=-1, required=True)
@click.option("-o", "--output", default="dacapo_plot", show_default=True,
              help="Output path without suffix: writes <output>.png and <output>.html.")
@click.option("--png/--no-png", default=True, show_default=True, help="Write the PNG.")
@click.option("--html/--no-html", default=True, show_default=True,
              help="Write the interactive HTML (self-contained: opens offline).")
@click.option("-c", "--criterion", default=None,
              help="Validation criterion to plot (default: the evaluator's primary one).")
def plot(run_names, output, png, html, criterion) -> None:
    """Plot training loss and validation scores of one or several runs (RUN_NAMES)."""
    from dacapo.plot import plot_runs

    if not (png or html):
        raise click.UsageError("nothing to write: --no-png and --no-html")
    written = plot_runs(
        run_names,
        png=f"{output}.png" if png else None,
        html=f"{output}.html" if html else None,
        criterion=criterion,
    )
    for path in written:
        click.echo(f"wrote {path}")


@cli.command()
@click.option("-r", "--run-name", default=None, help="A stored run: its validation raw, gt, predictions and outputs.")
@click.option("-i", "--iteration", type=int, default=None,
              help="Validation iteration to show (default: the best, else the last validated).")
@click.option("-a", "--array", "arrays", multiple=True,
              help="More arrays to show, as <container>.zarr/<dataset> (repeatable), e.g. apply outputs.")
@click.option("--serve", is_flag=True,
              help="Serve the arrays (and neuroglancer, if installed) over HTTP until Ctrl-C and print the link.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to serve on (0.0.0.0: reachable from other machines).")
@click.option("--port", type=int, default=0, show_default=True, help="Port to serve on (0: any free port).")
@click.option("--client-url", default=None,
              help="Neuroglancer client to open the link with (default: the served one, else the public demo).")
def view(run_name, iteration, arrays, serve, host, port, client_url) -> None:
    """Show a run's arrays in neuroglancer at their true voxel size and offset. Without
    --serve, lists the layers that --serve would show."""
    from dacapo.view import ViewServer, run_layers, stored_array_layer

    if run_name is None and not arrays:
        raise click.UsageError("name a run (-r) or arrays (-a)")
    layers = run_layers(run_name, iteration) if run_name is not None else []
    layers += [stored_array_layer(a, a) for a in arrays]
    if not layers:
        raise click.ClickException(f"run {run_name!r} has no stored arrays to show yet")
    if not serve:
        for layer in layers:
            click.echo(f"{layer.name}: {layer.path} ({layer.kind}, voxel size {layer.voxel_size}, "
                       f"offset {layer.offset}, shape {layer.shape})")
        click.echo("add --serve to open them in neuroglancer")
        return
    server = ViewServer(layers, host=host, port=port).start()
    try:
        click.echo(server.link(client_url))
        click.echo("serving; Ctrl-C to stop", err=True)
        while server.thread.is_alive():
            server.thread.join(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


@cli.command("config")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="File to write (default: $DACAPO_OPTIONS_FILE, else ~/.config/dacapo/dacapo.yaml).")
@click.option("--type", "store_type", type=click.Choice(["files", "mongo"]), default=None,
              help="Where configs and stats are stored.")
@click.option("--runs-base-dir", default=None, help="Directory for configs, stats, checkpoints and predictions.")
@click.option("--mongodbhost", default=None, help="MongoDB URI (type mongo).")
@click.option("--mongodbname", default=None, help="MongoDB database (type mongo).")
@click.option("--compute-context", type=click.Choice(["LocalTorch", "Bsub", "Slurm"]), default=None,
              help="Where training and blockwise work runs (its settings: edit the file).")
@click.option("--no-input", is_flag=True, help="Never prompt: take defaults for what no flag gives.")
@click.option("-f", "--force", is_flag=True, help="Replace an existing file.")
def config_command(output, store_type, runs_base_dir, mongodbhost, mongodbname, compute_context,
                   no_input, force) -> None:
    """Write dacapo.yaml from flags, prompting for what they leave out."""
    from dacapo.options_file import default_options_path, write_options

    path = Path(output).expanduser() if output else default_options_path()
    if path.exists() and not force:
        raise click.ClickException(f"{path} exists; add --force to replace it")

    def ask(value, text, default, **kwargs):
        if value is not None or no_input:
            return default if value is None else value
        return click.prompt(text, default=default, **kwargs)

    store_type = ask(store_type, "Store type", "files", type=click.Choice(["files", "mongo"]))
    runs_base_dir = ask(runs_base_dir, "Runs base directory", "~/dacapo")
    if store_type == "mongo":
        mongodbhost = ask(mongodbhost, "MongoDB URI", None)
        mongodbname = ask(mongodbname, "MongoDB database", "dacapo")
    compute_context = ask(compute_context, "Compute context", "LocalTorch",
                          type=click.Choice(["LocalTorch", "Bsub", "Slurm"]))
    write_options(path, type=store_type, runs_base_dir=runs_base_dir, mongodbhost=mongodbhost,
                  mongodbname=mongodbname, compute_context=compute_context)
    click.echo(f"wrote {path}")


# === blockwise: predict, apply, run-blockwise, segment-blockwise =================================
# (owned by the blockwise issue; dacapo/predict.py, dacapo/apply.py, dacapo/blockwise/)


def _extra_parameters(args) -> dict:
    """``--name value`` pairs (and bare ``--flag``s) after the known options → parameters;
    values are read as Python literals when they are (numbers, lists), else kept as strings."""
    import ast

    parameters = {}
    index = 0
    while index < len(args):
        key = args[index]
        if not key.startswith("--") or len(key) < 3:
            raise click.UsageError(f"unexpected argument {key!r}: extra parameters are --name value")
        name = key[2:].replace("-", "_")
        if "=" in name:
            name, value = name.split("=", 1)
            index += 1
        elif index + 1 < len(args) and not args[index + 1].startswith("--"):
            value = args[index + 1]
            index += 2
        else:
            parameters[name] = True
            index += 1
            continue
        try:
            parameters[name] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            parameters[name] = value
    return parameters


def _dtype(value):
    import numpy as np

    try:
        return np.dtype(value)
    except TypeError:
        raise click.BadParameter(f"unknown dtype {value!r}") from None


def _old_spelling(old: str, new: str, dest: str, **kwargs):
    """``old``, the former spelling of the option ``dest`` (spelled ``new`` now), still taken
    with a deprecation warning: ``-w`` meant workers in apply/predict but the worker file in
    run-blockwise; now ``-nw`` means workers everywhere and ``-wf`` the worker file. Give the
    option ``dest`` ``callback=_take_old_spelling``."""

    def remember(ctx, param, value):
        if value is not None:
            click.echo(f"Warning: {old} is deprecated in dacapo {ctx.info_name}: use {new}",
                       err=True)
            ctx.meta[f"old spelling of {dest}"] = (old, new, value)
        return value

    return click.option(old, f"old_{dest}", hidden=True, expose_value=False, is_eager=True,
                        callback=remember, **kwargs)


def _take_old_spelling(ctx, param, value):
    taken = ctx.meta.get(f"old spelling of {param.name}")
    if taken is None:
        return value
    old, new, old_value = taken
    if ctx.get_parameter_source(param.name) is not click.core.ParameterSource.DEFAULT:
        raise click.UsageError(f"{old} and {new} name the same option: give {new} only")
    return param.type_cast_value(ctx, old_value)


_ROI_HELP = "World units, as [begin:end, begin:end, ...], e.g. [0:800,0:800,0:800]."
_NUM_WORKERS = click.option(
    "-nw", "--num-workers", "--num_workers", "num_workers", type=click.IntRange(min=1), default=1,
    show_default=True, callback=_take_old_spelling,
    help="Workers (the compute context of dacapo.yaml launches them).")
_OLD_NUM_WORKERS = _old_spelling("-w", "-nw/--num-workers", "num_workers", type=int)
_OVERWRITE = click.option(
    "-ow/-no-ow", "--overwrite/--no-overwrite", default=False, show_default="no-overwrite",
    help="Replace an output that a different DaCapo job wrote (the same job always resumes; "
         "data DaCapo did not write and the inputs are never replaced).")


def _border_options(command):
    """``--padding`` and ``--full-size`` of predict and apply."""
    command = click.option(
        "--full-size", is_flag=True,
        help="Output the whole input ROI (the border context comes from the padding) instead "
             "of the input less the model's context.")(command)
    return click.option(
        "--padding", type=click.Choice(["zero", "reflect"]), default=None,
        help="How raw outside the input is filled: zeros, or mirrored at the border "
             "(numpy reflect). Default: reflect with --full-size, else zero.")(command)


@cli.command()
@click.option("-r", "--run-name", required=True, help="Name of a stored run config.")
@click.option("-i", "--iteration", type=int, default=None, help="Checkpoint to predict with (default: the latest).")
@click.option("-ic", "--input_container", "--input-container", "input_container", required=True,
              type=click.Path(exists=True), help="Zarr/N5 container of the input.")
@click.option("-id", "--input_dataset", "--input-dataset", "input_dataset", required=True, help="Dataset of the input in the container.")
@click.option("-op", "--output_path", "--output-path", "output_path", required=True,
              help="A directory (gets <input stem>.zarr), a container (out.zarr) or container/dataset.")
@click.option("-roi", "--output_roi", "--output-roi", "output_roi", default=None,
              help="Region to predict (default: the input less the model's context). " + _ROI_HELP)
@_NUM_WORKERS
@_OLD_NUM_WORKERS
@click.option("-dt", "--output_dtype", "--output-dtype", "output_dtype", default="float32", show_default=True,
              help="float32 stores predictions as they are (here they are the result; apply "
                   "stores its intermediate prediction as uint8); uint8 stores [-1,1] as "
                   "round(127x)+127, [0,1] as round(255x), a quarter of the size.")
@_OVERWRITE
@_border_options
def predict(run_name, iteration, input_container, input_dataset, output_path, output_roi,
            num_workers, output_dtype, overwrite, padding, full_size):
    """Predict a volume blockwise with a trained run (resumable)."""
    from dacapo.predict import predict as predict_fn

    output = predict_fn(
        run_name, iteration, input_container, input_dataset, output_path,
        output_roi=output_roi, num_workers=num_workers, output_dtype=_dtype(output_dtype),
        overwrite=overwrite, padding=padding, full_size=full_size,
    )
    click.echo(f"prediction written to {output.container}/{output.dataset}")


@cli.command()
@click.option("-r", "--run-name", required=True, help="Name of a stored run config.")
@click.option("-ic", "--input_container", "--input-container", "input_container", required=True,
              type=click.Path(exists=True), help="Zarr/N5 container of the input.")
@click.option("-id", "--input_dataset", "--input-dataset", "input_dataset", required=True, help="Dataset of the input in the container.")
@click.option("-op", "--output_path", "--output-path", "output_path", required=True,
              help="A directory (gets <input stem>.zarr) or a container (out.zarr).")
@click.option("-vd", "--validation_dataset", "--validation-dataset", "validation_dataset", default=None,
              help="Validation dataset whose best iteration/parameters to use (default: the only one).")
@click.option("-c", "--criterion", default="best", show_default=True,
              help="Criterion choosing iteration and parameters ('best': the evaluator's primary one).")
@click.option("-i", "--iteration", type=int, default=None, help="Checkpoint to use instead of the best one.")
@click.option("-p", "--parameters", default=None,
              help="Post-processing parameters, e.g. 'threshold=0.25' or a sweep id (default: the best).")
@click.option("-roi", "--roi", default=None, help="Region to process (default: the input less the model's context). " + _ROI_HELP)
@_NUM_WORKERS
@_OLD_NUM_WORKERS
@click.option("-dt", "--output_dtype", "--output-dtype", "output_dtype", default="uint8", show_default=True,
              help="dtype of the intermediate prediction that post-processing reads (uint8: "
                   "[-1,1] as round(127x)+127, [0,1] as round(255x), a quarter of float32's "
                   "size; steps of 1/127 are below what thresholds and watersheds resolve; "
                   "predict keeps float32, its prediction being the result).")
@_OVERWRITE
@_border_options
def apply(run_name, input_container, input_dataset, output_path, validation_dataset, criterion,
          iteration, parameters, roi, num_workers, output_dtype, overwrite, padding, full_size):
    """Predict and post-process a volume blockwise with a run's best (or chosen) weights and
    parameters (resumable: a rerun computes only missing blocks)."""
    from dacapo.apply import apply as apply_fn

    output = apply_fn(
        run_name, input_container, input_dataset, output_path,
        validation_dataset=validation_dataset, criterion=criterion, iteration=iteration,
        parameters=parameters, roi=roi, num_workers=num_workers,
        output_dtype=_dtype(output_dtype), overwrite=overwrite, padding=padding,
        full_size=full_size,
    )
    click.echo(f"output written to {output.container}/{output.dataset}")


@cli.command(
    "run-blockwise",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
)
@click.option("-wf", "--worker-file", "--worker_file", "worker_file", default=None,
              callback=_take_old_spelling,
              help="Worker: a .py file or module defining process_block(block, **parameters) "
                   "(and optionally setup(**parameters) returning extra keyword arguments). "
                   "Required.")
@_old_spelling("-w", "-wf/--worker-file", "worker_file")
@click.option("-tr", "--total_roi", "--total-roi", "total_roi", required=True, help="Total read ROI. " + _ROI_HELP)
@click.option("-rr", "--read_roi_size", "--read-roi-size", "read_roi_size", required=True, help="Block read size, world units, e.g. [288,288,288].")
@click.option("-wr", "--write_roi_size", "--write-roi-size", "write_roi_size", required=True, help="Block write size (centred in the read size).")
@_NUM_WORKERS
@click.option("-mr", "--max_retries", "--max-retries", "max_retries", type=int, default=2, show_default=True)
@click.option("-t", "--timeout", type=float, default=None, help="Seconds per block before it is retried.")
@_OVERWRITE
@click.option("-co", "--channels_out", "--channels-out", "channels_out", type=int, default=None,
              help="Channels of the output array created from --output_container/--output_dataset.")
@click.option("-dt", "--output_dtype", "--output-dtype", "output_dtype", default=None,
              help="dtype of the output array to create (with --output_container/--output_dataset).")
@click.option("--read-write-conflict", is_flag=True, help="Never run blocks whose read and write ROIs overlap at once.")
@click.pass_context
def run_blockwise(ctx, worker_file, total_roi, read_roi_size, write_roi_size, num_workers,
                  max_retries, timeout, overwrite, channels_out, output_dtype, read_write_conflict):
    """Run a worker file over the blocks of a volume (extra --name value options are passed to
    the worker as parameters, e.g. --input_container in.zarr --threshold 0.5)."""
    from funlib.geometry import Roi

    from dacapo.blockwise.scheduler import run_blockwise as run_blockwise_fn
    from dacapo.predict import parse_coordinate, parse_roi

    if worker_file is None:
        raise click.UsageError("Missing option '-wf' / '--worker-file'.")
    parameters = _extra_parameters(ctx.args)
    read_size = parse_coordinate(read_roi_size)
    write_size = parse_coordinate(write_roi_size)
    context = (read_size - write_size) / 2
    run_blockwise_fn(
        worker_file, parse_roi(total_roi), Roi((0,) * len(read_size), read_size),
        Roi(context, write_size), num_workers=num_workers, max_retries=max_retries,
        timeout=timeout, overwrite=overwrite, channels_out=channels_out,
        output_dtype=None if output_dtype is None else _dtype(output_dtype),
        read_write_conflict=read_write_conflict, **parameters,
    )
    click.echo("done")


@cli.command(
    "segment-blockwise",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
)
@click.option("-sf", "--segment_function_file", "--segment-function-file", "segment_function_file", required=True,
              help="A .py file or module defining segment_function(input_array, block, **parameters) "
                   "returning the labels of block.read_roi (e.g. dacapo.blockwise.watershed_function).")
@click.option("-tr", "--total_roi", "--total-roi", "total_roi", default=None,
              help="Region to segment (default: the input's ROI). " + _ROI_HELP)
@click.option("-rr", "--read_roi_size", "--read-roi-size", "read_roi_size", default=None,
              help="Block read size (world units); its excess over the write size is the context.")
@click.option("-wr", "--write_roi_size", "--write-roi-size", "write_roi_size", required=True, help="Block write size (world units).")
@click.option("-c", "--context", default=None, help="Context around each block (world units), e.g. [64,64,64].")
@_NUM_WORKERS
@click.option("-mr", "--max_retries", "--max-retries", "max_retries", type=int, default=2, show_default=True)
@click.option("-t", "--timeout", type=float, default=None, help="Seconds per block before it is retried.")
@_OVERWRITE
@click.option("-ic", "--input_container", "--input-container", "input_container", required=True, type=click.Path(exists=True))
@click.option("-id", "--input_dataset", "--input-dataset", "input_dataset", required=True)
@click.option("-oc", "--output_container", "--output-container", "output_container", required=True)
@click.option("-od", "--output_dataset", "--output-dataset", "output_dataset", required=True)
@click.option("--min-overlap", type=float, default=0.5, show_default=True,
              help="Fragments of neighbouring blocks merge when they overlap by this fraction of the smaller.")
@click.option("--keep-fragments", is_flag=True, help="Keep the per-block fragments after relabelling.")
@click.pass_context
def segment_blockwise(ctx, segment_function_file, total_roi, read_roi_size, write_roi_size,
                      context, num_workers, max_retries, timeout, overwrite, input_container,
                      input_dataset, output_container, output_dataset, min_overlap,
                      keep_fragments):
    """Segment a volume blockwise with instance ids consistent across blocks (extra --name
    value options are passed to the segment function as parameters)."""
    from funlib.geometry import Coordinate, Roi

    from dacapo.blockwise.scheduler import as_array_config
    from dacapo.blockwise.scheduler import segment_blockwise as segment_blockwise_fn
    from dacapo.predict import parse_coordinate, parse_roi

    parameters = _extra_parameters(ctx.args)
    write_size = parse_coordinate(write_roi_size)
    if context is not None:
        context = parse_coordinate(context)
    elif read_roi_size is not None:
        context = (parse_coordinate(read_roi_size) - write_size) / 2
    else:
        context = Coordinate((0,) * len(write_size))
    roi = parse_roi(total_roi)
    if roi is None:
        roi = as_array_config((input_container, input_dataset)).array("r").roi
    segment_blockwise_fn(
        segment_function_file, context, roi, None, Roi((0,) * len(write_size), write_size),
        num_workers=num_workers, max_retries=max_retries, timeout=timeout,
        input_array_identifier=(input_container, input_dataset),
        output_array_identifier=(output_container, output_dataset),
        parameters=parameters, overwrite=overwrite, min_overlap=min_overlap,
        keep_fragments=keep_fragments,
    )
    click.echo(f"segmentation written to {output_container}/{output_dataset}")


# === end of the blockwise section ==================================================================

# command groups defined next to what they drive (their modules import only click at the top)
from dacapo.cellmap.cli import cellmap  # noqa: E402
from dacapo.experiments.architectures.bioimageio_cli import export_bioimageio_command  # noqa: E402
from dacapo.new_run import new_run_command  # noqa: E402

cli.add_command(cellmap)
cli.add_command(export_bioimageio_command)
cli.add_command(new_run_command)


def main() -> None:  # pragma: no cover
    cli()


if __name__ == "__main__":  # pragma: no cover
    main()


from dacapo.compat import removed_names  # noqa: E402

__getattr__ = removed_names(__name__)  # the names of dacapo-ml 0.3.5 that are gone
