"""`bpmn-runner run`: run a process in memory until it ends or waits, and print what happened."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, Optional

import typer

from ..environment import DEFAULT_TIMER_WAIT
from ..errors import InvalidOperationError
from ..models import RunResult, WaitingTask
from .common import (EXIT_FAILED, EXIT_OK, HandlersOpt, PathsArg, TrustOpt, app, data_text, environment, guard_json,
                     parse_data, write_report)


@app.command()
def run(paths: list[Path] = PathsArg,
        process: Optional[str] = typer.Option(None, "--process", "-p", help="Process id to run."),
        handlers: Optional[list[str]] = HandlersOpt,
        data: Optional[str] = typer.Option(None, "--data", help="Start data as a JSON object."),
        data_file: Optional[Path] = typer.Option(None, "--data-file", help="Start data from a JSON file."),
        simulate: bool = typer.Option(False, "--simulate", help="Walk the diagram without handlers."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object and nothing else on stdout."),
        max_steps: Optional[int] = typer.Option(None, "--max-steps", min=1,
                                                help="Fail after this many steps (default 10,000 with --simulate)."),
        report: Optional[Path] = typer.Option(None, "--report", help="Write the instance report (HTML) here."),
        trust_scripts: bool = TrustOpt,
        timer_wait: float = typer.Option(DEFAULT_TIMER_WAIT, "--timer-wait", min=0,
                                         help="Wait in-process for timers due within this many seconds."),
        db: Optional[str] = typer.Option(None, "--db", show_default=False,
                                         help="Also record the run in this store (sqlite:///FILE or "
                                              "postgresql://...): an instance with its history, which `complete`, "
                                              "`message` and `worker` can carry on when it waits."),
        choose: Optional[list[str]] = typer.Option(None, "--choose", metavar="GATEWAY=FLOW",
                                                   help="With --simulate: take this flow at this gateway; repeat "
                                                        "for more."),
        seed: Optional[int] = typer.Option(None, "--random", metavar="SEED",
                                           help="With --simulate: pick a random flow at every gateway."),
        all_paths: bool = typer.Option(False, "--all-paths",
                                       help="With --simulate: walk each gateway's alternatives in turn and report "
                                            "where each path ends."),
        max_paths: int = typer.Option(50, "--max-paths", min=1, help="Bound for --all-paths."),
        models: Optional[Path] = typer.Option(None, "--models", metavar="DIR",
                                              help="SpiffArena process-model tree where called processes and "
                                                   "decisions are found by id (default: the tree the diagram is in)."),
        user: Optional[str] = typer.Option(None, "--user", help="The user scripts see (get_current_user())."),
        business_key: Optional[str] = typer.Option(None, "--business-key", "-k",
                                                   help="The instance's business key (handlers see "
                                                        "call.business_key; a call activity may pass it on)."),
        ) -> None:
    """Run a process until it ends or waits, and print what happened."""
    from ..definitions import load
    from ..engine import Engine
    from ..models import SimulateOptions
    from ..simulation.simulator import parse_choices

    def go() -> Any:
        start_data = parse_data(data, data_file)
        if (choose or seed is not None or all_paths) and not simulate:
            raise InvalidOperationError("--choose, --random and --all-paths walk a simulation; add --simulate")
        if simulate and db is not None:
            raise InvalidOperationError("a simulation is not recorded in a store (what it assumed would not match the "
                                        "stored diagrams when the instance carries on); leave out --db, or use "
                                        "--report")
        if all_paths and (report is not None or db is not None):
            raise InvalidOperationError("--report and --db record one run; leave out --all-paths (or use --choose)")
        options = SimulateOptions(choose=parse_choices(choose), seed=seed, all_paths=all_paths,
                                  max_paths=max_paths) if simulate else None
        env = environment(handlers, trust_scripts=trust_scripts, simulate=simulate, simulation=options,
                          max_steps=max_steps, timer_wait=timer_wait, user=user)
        definitions = load(list(paths), search_siblings=True, simulate=simulate, models=models)
        engine = Engine(environment=env)
        if all_paths:
            from ..all_paths import walk_all_paths
            return walk_all_paths(engine, definitions, process, start_data)
        instance = engine.start(definitions, process, start_data, business_key=business_key)
        interactive = not as_json and _is_terminal()
        progress = _Progress(enabled=not as_json and sys.stderr.isatty())
        try:
            result = instance.run(_ask_user_task if interactive else None, on_step=progress.step)
        finally:
            progress.done()
        if report is not None:
            from ..report import render_instance_report
            write_report(report, render_instance_report(definitions.documents, result.to_view()))
        if db is not None:
            from ..durable import open_runtime
            with open_runtime(db, env) as runtime:
                runtime.record_run(definitions, instance, result)
        return result

    result = guard_json(go, as_json=as_json)
    if as_json:
        typer.echo(json.dumps(result.to_json(), default=str))
    elif not isinstance(result, RunResult):  # --all-paths
        typer.echo("\n".join(result.lines()))
    else:
        _print_summary(result, report)
        if db is not None:
            typer.echo(f"recorded: instance {result.instance_id} in the store")
    raise typer.Exit(EXIT_FAILED if result.status == "failed" else EXIT_OK)


class _Progress:
    """A one-line step counter on stderr for runs that take more than a second."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.started = time.monotonic()
        self.last = 0.0
        self.count = 0
        self.shown = False

    def step(self, element_id: str) -> None:
        self.count += 1
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.started > 1.0 and now - self.last > 0.2:
            self.last = now
            self.shown = True
            sys.stderr.write(f"\r  running: {self.count:,} steps, at {element_id[:40]:<40}")
            sys.stderr.flush()

    def done(self) -> None:
        if self.shown:
            sys.stderr.write("\r" + " " * 70 + "\r")
            sys.stderr.flush()


def _is_terminal() -> bool:
    """Whether a person is at the terminal to answer user tasks (tests stand in for one)."""
    return sys.stdin.isatty() and sys.stdout.isatty()


_OMIT = object()  # an empty answer to a field with no default: the field is left out of the data
_MAX_ROUNDS = 10


def _ask_user_task(task: WaitingTask) -> dict[str, Any] | None:
    typer.echo(f"\nUser task {task.name!r} ({task.element_id}) is waiting.")
    if task.instructions:
        typer.echo(f"  {task.instructions}")
    if task.fields:
        return _ask_fields(task)
    while True:
        answer = typer.prompt("  data as a JSON object", default="{}")
        try:
            value = json.loads(answer)
        except json.JSONDecodeError as exc:
            typer.echo(f"  not JSON: {exc.msg}; try again")
            continue
        if isinstance(value, dict):
            return value
        typer.echo("  give a JSON object, like {\"approved\": true}")


def _ask_fields(task: WaitingTask) -> dict[str, Any]:
    """Ask each field; with a JSON schema (SpiffArena) check the answers, say what is wrong by field and ask
    those fields again until the data fits."""
    from ..user_forms import field_errors

    values: dict[str, Any] = {}
    pending = list(task.fields)
    by_id = {f.id: f for f in task.fields}
    for _ in range(_MAX_ROUNDS):
        for field in pending:
            answer = _ask_field(field, strict=task.form_schema is not None)
            if answer is _OMIT:
                values.pop(field.id, None)
            else:
                values[field.id] = answer
        if task.form_schema is None:
            return values
        errors = field_errors(task.form_schema, values)
        if not errors:
            return values
        order = list(by_id)
        errors = dict(sorted(errors.items(), key=lambda kv: order.index(kv[0]) if kv[0] in by_id else -1))
        for key, problem in errors.items():
            label = by_id[key].label if key in by_id else key
            typer.echo(f"  {label} ({key}): {problem}" if key else f"  {problem}")
        pending = [by_id[k] for k in errors if k in by_id] or list(task.fields)
    raise InvalidOperationError(f"user task {task.element_id}: the answers still do not fit its form after "
                                f"{_MAX_ROUNDS} rounds; complete it with --data")


def _ask_field(field: Any, *, strict: bool) -> Any:
    hint = f" [{'/'.join(field.options)}]" if field.options else " [yes/no]" if field.type == "boolean" else ""
    mark = " *" if field.required else ""
    default = field.default
    if isinstance(default, bool):
        default = "yes" if default else "no"
    answer = typer.prompt(f"  {field.label}{mark}{hint}", default="" if default is None else str(default),
                          show_default=default is not None)
    if strict and str(answer).strip() == "" and default is None:
        return _OMIT
    return _coerce(answer, field.type, strict=strict)


def _coerce(answer: Any, field_type: str, *, strict: bool = False) -> Any:
    """An answer typed as its field: with `strict` (a JSON-schema form) what does not read as the type stays
    text, so the schema check names the field."""
    text = str(answer).strip()
    if strict and text[:1] in ("{", "["):  # an object or list field of a JSON schema, typed as JSON
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text
    if field_type == "boolean":
        if text.lower() in ("true", "yes", "y", "1"):
            return True
        if not strict or text.lower() in ("false", "no", "n", "0"):
            return False
        return text
    try:
        if field_type in ("long", "integer"):
            return int(text)
        if field_type == "number":
            number = float(text)
            return int(number) if strict and number.is_integer() and "." not in text else number
    except ValueError:
        return text
    return text


def _print_summary(result: RunResult, report: Optional[Path]) -> None:
    typer.echo(f"{result.process_id}: {result.status} (instance {result.instance_id})")
    if result.path:
        names = {h.element_id: h.name for h in result.history if h.name}
        labels = [names.get(e, e) for e in result.path]
        shown = labels if len(labels) <= 30 else labels[:12] + ["…"] + labels[-12:]
        typer.echo(f"path ({len(result.path)} steps): " + " → ".join(shown))
    for task in result.waiting:
        detail = f" ({task.detail})" if task.detail else ""
        typer.echo(f"waiting at: {task.name} [{task.element_id}], a {task.kind} task{detail}")
        if task.kind in ("user", "manual"):
            typer.echo("  run it on a terminal to answer, or use `start` and `complete` with a store")
    for note in result.notes:
        typer.echo(f"note: {note}")
    for item in result.simulated:
        typer.echo(f"simulated: {item.element_id}: {item.assumed}")
    if result.error:
        typer.echo(f"error: {result.error}", err=True)
    typer.echo("data: " + data_text(result.data))
    if report is not None:
        typer.echo(f"report: {report}")
