"""Commands for the modeler side: `element-templates` (pick a task by handler) and `scaffold` (handler stubs)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..errors import InvalidOperationError
from .common import HandlersOpt, PathsArg, app, environment, guard, plural


@app.command("element-templates")
def element_templates_command(
        handlers: Optional[list[str]] = HandlersOpt,
        platform: str = typer.Option(..., "--platform", help="camunda7 (external task topic) or camunda8 (job type).",
                                     show_default=False),
        output: Path = typer.Option(..., "--output", "-o", show_default=False,
                                    help="Folder for the templates, e.g. .camunda/element-templates next to the "
                                         "diagrams."),
) -> None:
    """Write a Camunda Modeler element template per handler: analysts pick the task instead of typing a topic."""
    from ..modeler.templates import PLATFORMS, write_element_templates

    def go() -> list[Path]:
        if platform not in PLATFORMS:
            raise InvalidOperationError(f"--platform {platform!r} is not known; use {' or '.join(PLATFORMS)}")
        return write_element_templates(environment(handlers).handlers, platform, output)

    written = guard(go)
    for path in written:
        typer.echo(f"wrote {path}")
    typer.echo(f"{plural(len(written), 'element template')} for {platform}; Camunda Modeler "
               f"reads .camunda/element-templates/ beside the diagrams at start-up (Ctrl+R reloads)")


@app.command("scaffold")
def scaffold_command(
        paths: list[Path] = PathsArg,
        output: Path = typer.Option(..., "--output", "-o", show_default=False,
                                    help="The .py handler module to write."),
        handlers: Optional[list[str]] = HandlersOpt,
        force: bool = typer.Option(False, "--force", help="Overwrite the output file if it exists."),
) -> None:
    """Write a handler module with one documented stub per service task whose handler is not registered yet."""
    from ..modeler.scaffold import Scaffold, scaffold

    def go() -> Scaffold:
        if output.suffix != ".py":
            raise InvalidOperationError(f"-o {output} must name a .py file, so that --handlers can load it")
        if output.exists() and (output.is_dir() or not force):
            raise InvalidOperationError(f"{output} already exists; choose another file or pass --force to "
                                        f"overwrite it")
        result = scaffold(list(paths), environment(handlers).handlers)
        if result.stubs:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(result.source, encoding="utf-8")
        return result

    result = guard(go)
    for file, line, element_id, name in result.unbound:
        typer.echo(f"{file}:{line}: warning: service task {element_id!r} ({name or 'no name'}) names no handler, so "
                   f"it has no stub; give it a topic, job type or operator id in the modeler", err=True)
    if not result.stubs:
        typer.echo("nothing to scaffold: every task that names a handler has one registered")
        return
    typer.echo(f"wrote {output}: {plural(len(result.stubs), 'stub')}")
    for stub in result.stubs:
        typer.echo(f"  {stub.name:<30} {stub.function}()  <- " + ", ".join(t.element_id for t in stub.tasks))
    typer.echo(f"each stub raises NotImplementedError until implemented; check with: bpmn-runner validate "
               f"{' '.join(str(p) for p in paths)} --handlers {output}")
