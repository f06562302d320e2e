"""`bpmn-runner test`: run scenario files, print PASS/FAIL per scenario and the coverage per diagram."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from .common import EXIT_FAILED, EXIT_OK, TrustOpt, app, environment, guard


@app.command("test")
def test_command(
        paths: list[Path] = typer.Argument(..., show_default=False,
                                           help="Scenario files (*.scenario.yaml), folders holding them, or .bpmn "
                                                "files (their scenario files beside them)."),
        coverage_dir: Optional[Path] = typer.Option(None, "--coverage-dir", show_default=False,
                                                    help="Also write an HTML coverage report per diagram here."),
        fail_under: Optional[float] = typer.Option(None, "--fail-under", min=0, max=100, show_default=False,
                                                   help="Exit 1 when the total coverage is below N percent."),
        trust_scripts: bool = TrustOpt,
) -> None:
    """Run scenario files and the script unit tests stored in diagrams: PASS/FAIL per scenario, then
    `<diagram>: coverage NN.N%` per diagram.

    Exit 0 when every scenario passes, 1 when one fails (or coverage is under --fail-under), 3 when a scenario
    file or diagram is malformed (`file:line: error: message`). `[tool.bpmn-runner]` settings apply.
    """
    from ..coverage import format_line, write_reports
    from ..scenarios import run_scenario_paths

    def go() -> Any:
        # Scenario files name their own handlers; the entry points are not theirs to use.
        return run_scenario_paths(list(paths), environment(entry_points=False, trust_scripts=trust_scripts),
                                  script_unit_tests=True)

    run = guard(go)
    for result in run.results:
        typer.echo(f"{'PASS' if result.passed else 'FAIL'}  {result.title} ({result.seconds * 1000:.0f} ms)")
        if not result.passed:
            typer.echo("\n".join("    " + line for line in result.explain().splitlines()[1:]))
    for summary in run.coverage.summaries():
        typer.echo(format_line(summary))
    if coverage_dir is not None:
        written = guard(lambda: write_reports(run.coverage, coverage_dir))
        typer.echo(f"coverage reports: {', '.join(str(p) for p in written)}")
    results = run.results
    failed = sum(1 for r in results if not r.passed)
    typer.echo(f"{len(results)} scenario{'s' if len(results) != 1 else ''}: {len(results) - failed} passed, "
               f"{failed} failed in {run.seconds:.2f} s")
    total = run.coverage.total()["percentage"]
    if fail_under is not None and total < fail_under:
        typer.echo(f"FAIL: coverage {total:.1f}% is below --fail-under {fail_under:g}%", err=True)
        raise typer.Exit(EXIT_FAILED)
    raise typer.Exit(EXIT_FAILED if failed else EXIT_OK)
