"""`bpmn-runner report`: the analysts' report of diagrams, one stored instance, or a heatmap of a process."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..errors import InvalidOperationError
from .common import DbOpt, HandlersOpt, app, environment, guard, plural, write_report

ReportPathsArg = typer.Argument(None, help="BPMN/DMN files or folders to draw.", show_default=False)
ReportOutputOpt = typer.Option(None, "--output", "-o", help="Write the HTML report to this file.",
                               show_default=False)


@app.command("report")
def report_command(paths: Optional[list[Path]] = ReportPathsArg,
                   output: Optional[Path] = ReportOutputOpt,
                   handlers: Optional[list[str]] = HandlersOpt,
                   instance: Optional[str] = typer.Option(None, "--instance", show_default=False,
                                                          help="Report one stored instance (with --db)."),
                   heatmap: Optional[str] = typer.Option(None, "--heatmap", show_default=False,
                                                         help="Heatmap of every stored instance of this process id."),
                   db: Optional[str] = DbOpt) -> None:
    """Write an HTML report that draws the diagrams and lists every element for analysts.

    The report shows the diagram as drawn in the modeler, then each flow node and flow with its name,
    documentation, lane, handler binding (and, with --handlers, whether that handler is registered),
    conditions, timers and messages. It is one self-contained file that opens offline.
    """
    # Each report kind is one branch below; PATH is optional so that kinds which read a store can do without it.
    def go() -> str:
        if instance is not None or heatmap is not None:
            return _store_report(instance, heatmap, db, output, paths)
        if not paths:
            raise InvalidOperationError("give the diagrams to draw: bpmn-runner report PATH... -o FILE")
        return _definition_report(list(paths), handlers, _report_target(output, paths))

    typer.echo(guard(go))


def _store_report(instance: Optional[str], heatmap: Optional[str], db: Optional[str],
                  output: Optional[Path], paths: Optional[list[Path]]) -> str:
    """`report --instance ID` or `report --heatmap PROCESS_ID`: drawn on the diagram files stored with it."""
    from ..durable import open_runtime
    from ..report import render_heatmap_report, render_instance_report

    if instance is not None and heatmap is not None:
        raise InvalidOperationError("give either --instance or --heatmap, not both")
    if paths:
        raise InvalidOperationError("--instance and --heatmap draw the diagrams stored with the instances; "
                                    "leave out PATH")
    target = _report_target(output, [])
    with open_runtime(db, environment(entry_points=False)) as runtime:
        sources, view = runtime.instance_view(instance) if instance is not None else runtime.heatmap_stats(heatmap)
    html = render_instance_report(sources, view) if instance is not None else render_heatmap_report(sources, view)
    write_report(target, html)
    what = f"instance {view['instance_id']} ({view['status']})" if instance is not None else \
        f"heatmap of {heatmap} ({sum(view['instances_by_status'].values())} instances)"
    return f"report: {target}, {what}"


def _report_target(output: Optional[Path], sources: list[Path]) -> Path:
    """The checked `-o` file: given, not a folder, and not one of the diagrams it would overwrite."""
    if output is None:
        raise InvalidOperationError("give the file to write the report to: -o report.html")
    if output.is_dir():
        raise InvalidOperationError(f"-o {output} is a folder; give a file name like {output / 'report.html'}")
    resolved = output.resolve()
    if any(p.exists() and p.resolve() == resolved for p in sources):
        raise InvalidOperationError(f"-o {output} is one of the diagrams; the report would overwrite it")
    return output


def _definition_report(sources: list[Path], handler_specs: Optional[list[str]], target: Path) -> str:
    from ..loader.documents import read_documents
    from ..report import render_definition_report

    # The hardened loader first: a hostile or malformed file stops here with `file:line: error: message`.
    documents = read_documents(list(sources))
    handler_names = set(environment(handler_specs).handlers.names()) if handler_specs else None
    html = render_definition_report(documents, handler_names=handler_names)
    write_report(target, html)
    return f"report: {target} ({plural(len(documents), 'file')})"
