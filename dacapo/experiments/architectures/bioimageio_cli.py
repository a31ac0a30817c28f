"""``dacapo export-bioimageio``: click only; torch and bioimageio.spec load when it runs."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("export-bioimageio")
@click.option("-r", "--run-name", required=True, help="The run to export.")
@click.option("-i", "--iteration", type=int, required=True, help="The iteration of its weights.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True, help="The .zip to write.")
@click.option("--author", "authors", multiple=True, help="An author (repeat for several).")
@click.option("--license", default="CC-BY-4.0", show_default=True, help="SPDX license id.")
@click.option("--no-torchscript", is_flag=True, help="Export the PyTorch state dict only.")
def export_bioimageio_command(run_name, iteration, output, authors, license, no_torchscript):
    """Export a trained run as a bioimage.io model package (needs bioimageio.spec)."""
    from .bioimageio import export_bioimageio

    path = export_bioimageio(
        run_name, iteration, Path(output), authors=authors, license=license, torchscript=not no_torchscript
    )
    click.echo(str(path))
