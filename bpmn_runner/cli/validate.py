"""`bpmn-runner validate` (the linter) and `bpmn-runner handlers` (what is registered)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer

from ..errors import InvalidOperationError
from .common import HandlersOpt, PathsArg, app, environment, fail, guard


@app.command()
def validate(paths: list[Path] = PathsArg, handlers: Optional[list[str]] = HandlersOpt,
             output_format: str = typer.Option("text", "--format", metavar="text|json",
                                               help="text: one 'file:line: severity: message [rule-id]' per "
                                                    "finding; json: one object."),
             strict: bool = typer.Option(False, "--strict", help="Exit 3 on warnings too, not only on errors."),
             disable: Optional[list[str]] = typer.Option(None, "--disable", metavar="RULE",
                                                         help="Switch a rule off; repeat for more."),
             trust_scripts: bool = typer.Option(False, "--trust-scripts",
                                                help="Scripts and conditions will run as full Python: do not "
                                                     "report what the sandbox would refuse."),
             ) -> None:
    """Lint diagrams like bpmnlint: one line per finding, exit 3 on errors (with --strict, on warnings too).

    Rules can be switched off in pyproject.toml: [tool.bpmn-runner] lint.disable = ["no-implicit-split"].
    """
    from ..lint import check_rule_ids, exit_code, lint, render_json, render_text, summary

    if output_format not in ("text", "json"):
        fail(InvalidOperationError(f"--format must be text or json, not {output_format!r}"))
    as_json = output_format == "json"

    def go() -> list[Any]:
        env = environment(handlers, trust_scripts=trust_scripts)
        check_rule_ids(env.settings.disable, where=env.settings.disable_where)
        return lint(list(paths), handlers=env.handlers, handlers_given=env.handlers_given,
                    trust_scripts=env.trust_scripts, disable=env.settings.disable | set(disable or []))

    findings = guard(go, as_json=as_json)
    if as_json:
        typer.echo(render_json(findings))
    elif findings:
        typer.echo(render_text(findings))
        counts = summary(findings)
        typer.echo(", ".join(f"{n} {s}{'s' if n != 1 else ''}" for s, n in counts.items()), err=True)
    else:
        typer.echo(f"ok: {len(paths)} path(s), no problems found")
    raise typer.Exit(exit_code(findings, strict=strict))


@app.command("handlers")
def list_handlers(handlers: Optional[list[str]] = HandlersOpt,
                  as_json: bool = typer.Option(False, "--json", help="Print one JSON object.")) -> None:
    """List each registered handler name and where it comes from."""
    registry = guard(lambda: environment(handlers).handlers, as_json=as_json)
    if as_json:
        typer.echo(json.dumps({"handlers": [{"name": n, "source": h.source} for n, h in registry.items()]}))
        return
    if not len(registry):
        typer.echo("no handlers registered (pass --handlers MODULE_OR_FILE)")
        return
    width = max(len(n) for n in registry.names())
    for name, registered in registry.items():
        typer.echo(f"{name:<{width}}  {registered.source}")
