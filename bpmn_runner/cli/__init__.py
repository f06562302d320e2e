"""The `bpmn-runner` command line: one module per command group, each parsing options, calling the library
and printing; `common` maps errors to one line and an exit code."""

from __future__ import annotations

import sys

import typer

from ..errors import DefinitionError
# Imported for the commands they register, in the order `--help` lists them.
from . import run, validate, reports, modeler, durable, worker, serve, bridge, testing, decisions  # noqa: F401,I001
from .common import EXIT_DEFINITION, EXIT_FAILED, EXIT_OK, EXIT_USAGE, app

__all__ = ["EXIT_DEFINITION", "EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "app", "main"]


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except DefinitionError as exc:  # pragma: no cover - commands guard their own errors
        typer.echo(str(exc), err=True)
        sys.exit(EXIT_DEFINITION)
