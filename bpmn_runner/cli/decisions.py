"""`bpmn-runner decide`: evaluate a DMN decision and the decisions it requires."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from .common import EXIT_FAILED, JsonOpt, app, echo_json, guard, parse_data


@app.command("decide")
def decide_command(paths: list[Path] = typer.Argument(..., help="DMN files (the first holds the decision).",
                                                      show_default=False),
                   decision: Optional[str] = typer.Option(None, "--decision", "-d",
                                                          help="Decision id or name (default: the top decision)."),
                   data: Optional[str] = typer.Option(None, "--data", help="Input data as a JSON object."),
                   data_file: Optional[Path] = typer.Option(None, "--data-file", help="Input data from a JSON file."),
                   as_json: bool = JsonOpt) -> None:
    """Evaluate a DMN decision and the decisions it requires."""
    from ..decisions import decide, result_as_json

    result = guard(lambda: decide(paths, decision, parse_data(data, data_file)), as_json=as_json)
    shaped = result_as_json(result)
    for problem in result.errors:
        typer.echo(f"warning: {problem}", err=True)
    if as_json:
        echo_json(shaped)
    else:
        typer.echo(f"{result.decision_name} [{result.decision_id}]: {json.dumps(shaped['result'])}")
        for name, value in shaped["results"].items():
            if name != result.decision_name:
                typer.echo(f"  {name}: {json.dumps(value)}")
    if result.errors:
        raise typer.Exit(EXIT_FAILED)
