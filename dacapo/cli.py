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
@click.option(
    "--background-validation",
    is_flag=True,
    help="Validate each checkpoint in a separate process while training continues.",
)
def train(run_name: str, no_validation: bool, background_validation: bool) -> None:
    """Train a stored run, resuming from its latest checkpoint."""
    from dacapo.train import train as train_fn

    train_fn(run_name, validate=not no_validation, background_validation=background_validation)


@cli.command()
@click.option("-r", "--run-name", required=True, help="Name of a stored run config.")
@click.option("-i", "--iteration", required=True, type=int, help="Checkpoint iteration to validate.")
def validate(run_name: str, iteration: int) -> None:
    """Validate a stored checkpoint of a run and record its scores."""
    from dacapo.validate import validate as validate_fn

    scores = validate_fn(run_name, iteration)
    if scores is not None:
        click.echo(f"validated {run_name} at iteration {iteration}")


def main() -> None:  # pragma: no cover
    cli()


if __name__ == "__main__":  # pragma: no cover
    main()
