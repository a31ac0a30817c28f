"""The ``dacapo`` command line. Errors print as one line; ``--log-level DEBUG`` shows tracebacks."""

from __future__ import annotations

import logging
import sys

import click

EXPECTED_ERRORS = (ValueError, KeyError, FileNotFoundError, RuntimeError, PermissionError, OSError)


class DacapoGroup(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except EXPECTED_ERRORS as exc:
            if logging.getLogger().isEnabledFor(logging.DEBUG):
                raise
            message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
            click.echo(f"Error: {message}", err=True)
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
    logging.basicConfig(level=log_level.upper(), format="%(levelname)s %(name)s: %(message)s")


@cli.command()
@click.option("-r", "--run-name", required=True, help="Name of a stored run config.")
@click.option("--no-validation", is_flag=True, help="Train without validating.")
def train(run_name: str, no_validation: bool) -> None:
    """Train a stored run, resuming from its latest checkpoint."""
    from dacapo.train import train as train_fn

    train_fn(run_name, validate=not no_validation)


def main() -> None:  # pragma: no cover
    cli()
