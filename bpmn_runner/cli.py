"""The `bpmn-runner` command line: parse options, call the library, print, map errors to exit codes."""

from __future__ import annotations

import contextlib
import json
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable, NoReturn, Optional

import typer

from .errors import BpmnRunnerError, DefinitionError, InvalidOperationError
from .models import RunResult, WaitingTask
from .registry import HandlerRegistry

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_DEFINITION = 0, 1, 2, 3

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Run modeler-drawn BPMN 2.0 diagrams with Python handlers.\n\n"
                       "Exit codes: 0 completed or waiting, 1 failed, 2 usage error, 3 definition error.")

_state: dict[str, bool] = {"debug": False}

PathsArg = typer.Argument(..., help="BPMN/DMN files or folders.", show_default=False)
HandlersOpt = typer.Option(None, "--handlers", "-H",
                           help="Handler module (dotted name) or .py file; repeat for more.")
DbOpt = typer.Option(None, "--db", show_default=False,
                     help="Store URL: sqlite:///FILE or postgresql://USER@HOST/DB (default: $BPMN_RUNNER_DB, "
                          "else sqlite:///.bpmn-runner/bpmn-runner.db).")


@app.callback()
def _main(debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors.")) -> None:
    _state["debug"] = debug


def _fail(error: BaseException, *, as_json: bool = False, stdout: Any = None) -> NoReturn:
    """Print one clear line (or one JSON object) and exit with the error's code."""
    if _state["debug"]:
        traceback.print_exception(error)
    code = getattr(error, "exit_code", EXIT_FAILED)
    message = str(error) if isinstance(error, BpmnRunnerError) else f"internal error: {type(error).__name__}: {error}"
    if as_json:
        typer.echo(json.dumps({"status": "failed", "error": message}), file=stdout)
    typer.echo(message if message.startswith(("error", "internal")) or ": error:" in message
               else f"error: {message}", err=True)
    raise typer.Exit(code)


def _guard(action: Callable[[], Any], *, as_json: bool = False, stdout: Any = None) -> Any:
    try:
        return action()
    except typer.Exit:
        raise
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        raise typer.Exit(EXIT_FAILED)
    except Exception as exc:  # never a bare traceback without --debug
        _fail(exc, as_json=as_json, stdout=stdout)


def build_registry(handler_specs: Optional[list[str]], *, entry_points: bool = True) -> HandlerRegistry:
    registry = HandlerRegistry()
    for spec in handler_specs or []:
        registry.load(spec)
    if entry_points:
        registry.load_entry_points()
    return registry


def parse_data(data: Optional[str], data_file: Optional[Path]) -> dict[str, Any]:
    if data is not None and data_file is not None:
        raise InvalidOperationError("give either --data or --data-file, not both")
    text, source = (data, "--data") if data is not None else (None, "")
    if data_file is not None:
        try:
            text, source = data_file.read_text(encoding="utf-8"), str(data_file)
        except OSError as exc:
            raise InvalidOperationError(f"cannot read {data_file}: {exc.strerror or exc}") from exc
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidOperationError(f"{source} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})")
    if not isinstance(value, dict):
        raise InvalidOperationError(f"{source} must be a JSON object, like {{\"amount\": 10}}")
    return value


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
        trust_scripts: bool = typer.Option(False, "--trust-scripts", help="Run scripts and conditions as full Python."),
        timer_wait: float = typer.Option(60.0, "--timer-wait", min=0,
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
        ) -> None:
    """Run a process until it ends or waits, and print what happened."""
    from .definitions import load
    from .engine import Engine
    from .lint import load_settings
    from .models import SimulateOptions
    from .script_functions import script_context
    from .simulation.simulator import parse_choices

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
        registry = build_registry(handlers)
        definitions = load(list(paths), search_siblings=True, simulate=simulate, models=models)
        settings = load_settings()
        trusted = trust_scripts or settings.trust_scripts  # [tool.bpmn-runner] trust_scripts = true
        engine = Engine(registry, simulate=simulate, trust_scripts=trusted, max_steps=max_steps,
                        timer_wait=timer_wait, simulation=options,
                        script_context=script_context(settings.spiffarena, user))
        if all_paths:
            from .all_paths import walk_all_paths
            return walk_all_paths(engine, definitions, process, start_data)
        instance = engine.start(definitions, process, start_data)
        interactive = not as_json and sys.stdin.isatty() and sys.stdout.isatty()
        progress = _Progress(enabled=not as_json and sys.stderr.isatty())
        instance.session.on_step = progress.step
        try:
            result = instance.run(_ask_user_task if interactive else None)
        finally:
            progress.done()
        if report is not None:
            _write_report(definitions, result, report)
        if db is not None:
            _record_run(db, definitions, instance, result)
        return result

    if as_json:  # stdout carries exactly one JSON object: what handlers and scripts print goes to stderr
        real_stdout = sys.stdout
        with contextlib.redirect_stdout(sys.stderr):
            result = _guard(go, as_json=True, stdout=real_stdout)
    else:
        result = _guard(go)
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


def _ask_user_task(task: WaitingTask) -> dict[str, Any] | None:
    typer.echo(f"\nUser task {task.name!r} ({task.element_id}) is waiting.")
    if task.instructions:
        typer.echo(f"  {task.instructions}")
    values: dict[str, Any] = {}
    if task.fields:
        for field in task.fields:
            hint = f" [{'/'.join(field.options)}]" if field.options else ""
            answer = typer.prompt(f"  {field.label}{hint}", default=field.default if field.default is not None else "",
                                  show_default=field.default is not None)
            values[field.id] = _coerce(answer, field.type)
        return values
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


def _coerce(answer: Any, field_type: str) -> Any:
    text = str(answer).strip()
    if field_type == "boolean":
        return text.lower() in ("true", "yes", "y", "1")
    try:
        if field_type in ("long", "integer"):
            return int(text)
        if field_type == "number":
            return float(text)
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
    data_text = json.dumps(result.data, indent=2, default=str, ensure_ascii=False)
    if len(data_text) > 4000:
        data_text = data_text[:4000] + "\n… (truncated; use --json for all of it)"
    typer.echo("data: " + data_text)
    if report is not None:
        typer.echo(f"report: {report}")


def _write_report(definitions: Any, result: RunResult, target: Path) -> None:
    from .report import render_instance_report
    html = render_instance_report([str(d.path) for d in definitions.documents], result.to_view())
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(html, encoding="utf-8")


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
    from .lint import exit_code, lint, load_settings, render_json, render_text, summary

    if output_format not in ("text", "json"):
        _fail(InvalidOperationError(f"--format must be text or json, not {output_format!r}"))
    as_json = output_format == "json"

    def go() -> list[Any]:
        settings = load_settings()
        registry = build_registry(handlers)
        return lint(list(paths), handlers=registry, handlers_given=bool(handlers) or len(registry) > 0,
                    trust_scripts=trust_scripts or settings.trust_scripts,
                    disable=settings.disable | set(disable or []))

    findings = _guard(go, as_json=as_json)
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
    registry = _guard(lambda: build_registry(handlers), as_json=as_json)
    if as_json:
        typer.echo(json.dumps({"handlers": [{"name": n, "source": h.source} for n, h in registry.items()]}))
        return
    if not len(registry):
        typer.echo("no handlers registered (pass --handlers MODULE_OR_FILE)")
        return
    width = max(len(n) for n in registry.names())
    for name, registered in registry.items():
        typer.echo(f"{name:<{width}}  {registered.source}")


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
            return _write_store_report(instance, heatmap, db, output, paths)
        if not paths:
            raise InvalidOperationError("give the diagrams to draw: bpmn-runner report PATH... -o FILE")
        target = _report_target(output, paths)
        return _write_definition_report(list(paths), handlers, target)

    summary = _guard(go)
    typer.echo(summary)


def _write_store_report(instance: Optional[str], heatmap: Optional[str], db: Optional[str],
                        output: Optional[Path], paths: Optional[list[Path]]) -> str:
    """`report --instance ID` or `report --heatmap PROCESS_ID`: drawn on the diagram files stored with it."""
    import tempfile

    from .errors import ReportError
    from .report import render_heatmap_report, render_instance_report
    from .runtime import write_sources

    if instance is not None and heatmap is not None:
        raise InvalidOperationError("give either --instance or --heatmap, not both")
    if paths:
        raise InvalidOperationError("--instance and --heatmap draw the diagrams stored with the instances; "
                                    "leave out PATH")
    target = _report_target(output, [])
    runtime = _open_runtime(db)
    try:
        sources, view = runtime.instance_view(instance) if instance is not None else runtime.heatmap_stats(heatmap)
    finally:
        runtime.store.close()
    with tempfile.TemporaryDirectory(prefix="bpmn-runner-report-") as folder:
        files = write_sources(sources, Path(folder))
        html = render_instance_report(files, view) if instance is not None else render_heatmap_report(files, view)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise ReportError(f"cannot write {target}: {exc.strerror or exc}") from exc
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


def _write_definition_report(sources: list[Path], handler_specs: Optional[list[str]], target: Path) -> str:
    from .errors import ReportError
    from .loader.documents import read_documents
    from .report import render_definition_report

    # The hardened loader first: a hostile or malformed file stops here with `file:line: error: message`.
    documents = read_documents(list(sources))
    handler_names: Optional[set[str]] = None
    if handler_specs:
        registry = build_registry(handler_specs)
        handler_names = set(registry.names())
    html = render_definition_report([str(d.path) for d in documents], handler_names=handler_names)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise ReportError(f"cannot write {target}: {exc.strerror or exc}") from exc
    return f"report: {target} ({len(documents)} file{'s' if len(documents) != 1 else ''})"


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
    from .modeler.templates import PLATFORMS, write_element_templates

    def go() -> list[Path]:
        if platform not in PLATFORMS:
            raise InvalidOperationError(f"--platform {platform!r} is not known; use {' or '.join(PLATFORMS)}")
        return write_element_templates(build_registry(handlers), platform, output)

    written = _guard(go)
    for path in written:
        typer.echo(f"wrote {path}")
    typer.echo(f"{len(written)} element template{'s' if len(written) != 1 else ''} for {platform}; Camunda Modeler "
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
    from .modeler.scaffold import Scaffold, scaffold

    def go() -> Scaffold:
        if output.suffix != ".py":
            raise InvalidOperationError(f"-o {output} must name a .py file, so that --handlers can load it")
        if output.exists() and (output.is_dir() or not force):
            raise InvalidOperationError(f"{output} already exists; choose another file or pass --force to "
                                        f"overwrite it")
        result = scaffold(list(paths), build_registry(handlers))
        if result.stubs:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(result.source, encoding="utf-8")
        return result

    result = _guard(go)
    for file, line, element_id, name in result.unbound:
        typer.echo(f"{file}:{line}: warning: service task {element_id!r} ({name or 'no name'}) names no handler, so "
                   f"it has no stub; give it a topic, job type or operator id in the modeler", err=True)
    if not result.stubs:
        typer.echo("nothing to scaffold: every task that names a handler has one registered")
        return
    typer.echo(f"wrote {output}: {len(result.stubs)} stub{'s' if len(result.stubs) != 1 else ''}")
    for stub in result.stubs:
        typer.echo(f"  {stub.name:<30} {stub.function}()  <- " + ", ".join(t.element_id for t in stub.tasks))
    typer.echo(f"each stub raises NotImplementedError until implemented; check with: bpmn-runner validate "
               f"{' '.join(str(p) for p in paths)} --handlers {output}")


# ----- durable instances: commands that use the store ---------------------------------------------------------

JsonOpt = typer.Option(False, "--json", help="Print one JSON object and nothing else on stdout.")
STATUS_HELP = ("running (work a worker can do now), waiting (for a person, a message, a signal or a later timer), "
               "completed, failed, incident, cancelled")


def _record_run(db: str, definitions: Any, instance: Any, result: RunResult) -> None:
    runtime = _open_runtime(db)
    try:
        runtime.record_run(definitions, instance, result)
    finally:
        runtime.store.close()


def _open_runtime(db: Optional[str], handlers: Optional[list[str]] = None, *, ttl: Optional[float] = None,
                  worker_id: str = "cli", trust_scripts: bool = False, check_bindings: bool = False) -> Any:
    from .lint import load_settings
    from .runtime import DEFAULT_TTL, Runtime
    from .store import open_store

    registry = build_registry(handlers) if handlers else HandlerRegistry()
    trusted = trust_scripts or load_settings().trust_scripts
    return Runtime(open_store(db), registry, message_ttl=DEFAULT_TTL if ttl is None else ttl, worker_id=worker_id,
                   trust_scripts=trusted, check_bindings=check_bindings)


def _store_command(action: Callable[[Any], Any], db: Optional[str], *, as_json: bool,
                   handlers: Optional[list[str]] = None, ttl: Optional[float] = None) -> Any:
    """Open the store, run `action(runtime)`, close; errors become one line and their exit code."""
    def go() -> Any:
        runtime = _open_runtime(db, handlers, ttl=ttl, check_bindings=bool(handlers))
        try:
            return action(runtime)
        finally:
            runtime.store.close()

    if as_json:
        real_stdout = sys.stdout
        with contextlib.redirect_stdout(sys.stderr):
            return _guard(go, as_json=True, stdout=real_stdout)
    return _guard(go)


def _echo_json(value: Any) -> None:
    typer.echo(json.dumps(value, default=str, ensure_ascii=False))


def _when(epoch: Optional[float]) -> str:
    if epoch is None:
        return ""
    from datetime import datetime, timezone
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _parse_correlations(items: Optional[list[str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InvalidOperationError(f"--correlation {item!r} must be KEY=VALUE, like orderId=42")
        out[key.strip()] = value
    return out


def _waiting_text(waiting: list[dict[str, Any]]) -> str:
    parts = []
    for w in waiting:
        detail = f" {w.get('detail')}" if w.get("detail") else ""
        parts.append(f"{w.get('element_id')} ({w.get('kind')}{detail})")
    return ", ".join(parts)


@app.command("start")
def start_command(paths: list[Path] = PathsArg,
                  process: Optional[str] = typer.Option(None, "--process", "-p", help="Process id to start."),
                  business_key: Optional[str] = typer.Option(None, "--business-key", "-k",
                                                             help="Business key, unique among open instances."),
                  data: Optional[str] = typer.Option(None, "--data", help="Start data as a JSON object."),
                  data_file: Optional[Path] = typer.Option(None, "--data-file", help="Start data from a JSON file."),
                  handlers: Optional[list[str]] = HandlersOpt,
                  db: Optional[str] = DbOpt, as_json: bool = JsonOpt) -> None:
    """Store the diagrams, start an instance, run it to its first wait, commit, and print the instance id.

    Service tasks become jobs that `bpmn-runner worker` runs; with --handlers the bindings are checked first.
    """
    out = _store_command(lambda rt: rt.start(list(paths), process, parse_data(data, data_file),
                                             business_key=business_key), db, as_json=as_json, handlers=handlers)
    if as_json:
        _echo_json(out)
    else:
        typer.echo(out["instance_id"])
        where = f", waits at {_waiting_text(out['waiting'])}" if out["waiting"] else ""
        typer.echo(f"{out['process_id']}: {out['status']}{where}", err=True)
        if out.get("error"):
            typer.echo(f"error: {out['error']}", err=True)
    raise typer.Exit(EXIT_FAILED if out["status"] == "failed" else EXIT_OK)


@app.command("deploy")
def deploy_command(paths: list[Path] = PathsArg, db: Optional[str] = DbOpt, as_json: bool = JsonOpt) -> None:
    """Store the diagrams without starting anything: processes with message or signal start events then start
    when `message` or `signal` (or an instance's throw) arrives."""
    def act(rt: Any) -> dict[str, Any]:
        digest, definitions = rt.deploy(list(paths))
        return {"definition": digest, "processes": definitions.executable_processes(), "notes": definitions.notes}

    out = _store_command(act, db, as_json=as_json)
    if as_json:
        _echo_json(out)
        return
    typer.echo(f"deployed {', '.join(out['processes']) or 'no executable process'} (definition {out['definition'][:12]})")
    for note in out["notes"]:
        typer.echo(f"note: {note}")


@app.command("instances")
def instances_command(status: Optional[str] = typer.Option(None, "--status", "-s", help=STATUS_HELP),
                      process: Optional[str] = typer.Option(None, "--process", "-p", help="Only this process id."),
                      business_key: Optional[str] = typer.Option(None, "--business-key", "-k",
                                                                 help="Only instances with this business key."),
                      limit: Optional[int] = typer.Option(None, "--limit", "-n", min=1,
                                                          help="At most this many (oldest first)."),
                      after: Optional[str] = typer.Option(None, "--after", help="The page after this instance id "
                                                          "(the last one listed)."),
                      db: Optional[str] = DbOpt, as_json: bool = JsonOpt) -> None:
    """List stored instances with their status, where they wait, and incidents; page with --limit and --after."""
    from .store import STATUSES

    def action(rt: Any) -> list[dict[str, Any]]:
        if status is not None and status not in STATUSES:
            raise InvalidOperationError(f"--status {status!r} is not a status; use one of {', '.join(STATUSES)}")
        return rt.list_instances(status=status, process_id=process, business_key=business_key, limit=limit,
                                 after=after)

    rows = _store_command(action, db, as_json=as_json)
    more = bool(limit) and len(rows) == limit
    if as_json:
        _echo_json({"instances": rows, **({"next_after": rows[-1]["instance_id"]} if more else {})})
        return
    if not rows:
        typer.echo("no instances")
        return
    for row in rows:
        extra = row["error"] if row["status"] in ("incident", "failed") and row["error"] else \
            ", ".join(w for w in row["waiting"] if w)
        key = f"  [{row['business_key']}]" if row["business_key"] else ""
        typer.echo(f"{row['instance_id']}  {row['status']:<9}  {row['process_id']}{key}  {extra}".rstrip())
    if more:
        typer.echo(f"(more: --after {rows[-1]['instance_id']})")


@app.command("show")
def show_command(instance: str = typer.Argument(..., help="Instance id (or a unique prefix of it)."),
                 db: Optional[str] = DbOpt, as_json: bool = JsonOpt) -> None:
    """Show one instance: status, where it waits, incidents, data and history."""
    shown = _store_command(lambda rt: rt.show(instance), db, as_json=as_json)
    if as_json:
        _echo_json(shown)
        return
    version = f" v{shown['process_version']}" if shown.get("process_version") else ""
    typer.echo(f"instance {shown['instance_id']}: {shown['status']}")
    typer.echo(f"process: {shown['process_id']}{version}"
               + (f", business key {shown['business_key']}" if shown["business_key"] else ""))
    typer.echo(f"started {_when(shown['created_at'])}, updated {_when(shown['updated_at'])}"
               + (f", ended {_when(shown['ended_at'])}" if shown.get("ended_at") else ""))
    for w in shown["waiting"]:
        extra = f" key={w['correlation_key']}" if w.get("correlation_key") else ""
        due = f" due {_when(w['due_at'])}" if w.get("due_at") else ""
        typer.echo(f"waiting at: {w.get('name')} [{w.get('element_id')}], {w.get('kind')}"
                   f"{(' ' + str(w.get('detail'))) if w.get('detail') else ''}{extra}{due}"
                   + (f" (task {w['task_id']})" if w.get("kind") in ("user", "manual") else ""))
        if w.get("instructions"):
            typer.echo(f"  instructions: {' '.join(str(w['instructions']).split())}")
    for i in shown["incidents"]:
        typer.echo(f"incident at {i['element_id']} after {i['attempts']} attempt(s): {i['error']}  "
                   f"(fix the cause, then: bpmn-runner retry {shown['instance_id']})")
    if shown["error"] and not shown["incidents"]:
        typer.echo(f"error: {shown['error']}")
    typer.echo("history:")
    for h in shown["history"]:
        if h["event"] == "taken":
            continue
        detail = f"  {h['detail']}" if h.get("detail") else ""
        changes = f"  {json.dumps(h['data_changes'], default=str)[:200]}" if h.get("data_changes") else ""
        typer.echo(f"  {_when(h['at'])}  {h['event']:<9}  {h['element_id']}{detail}{changes}")
    data_text = json.dumps(shown["data"], indent=2, default=str, ensure_ascii=False)
    if len(data_text) > 4000:
        data_text = data_text[:4000] + "\n… (truncated; use --json for all of it)"
    typer.echo("data: " + data_text)


@app.command("tasks")
def tasks_command(instance: Optional[str] = typer.Option(None, "--instance", "-i", help="Only this instance."),
                  limit: Optional[int] = typer.Option(None, "--limit", "-n", min=1,
                                                      help="At most this many (oldest first)."),
                  db: Optional[str] = DbOpt, as_json: bool = JsonOpt) -> None:
    """List open user tasks, with the form fields `complete --data` fills in."""
    rows = _store_command(lambda rt: rt.list_tasks(instance, limit=limit), db, as_json=as_json)
    if as_json:
        _echo_json({"tasks": rows})
        return
    if not rows:
        typer.echo("no open user tasks")
        return
    for row in rows:
        fields = ", ".join(f"{f['id']}:{f.get('type') or 'string'}" for f in row["fields"])
        typer.echo(f"{row['task_id']}  {row['name']} [{row['element_id']}]  instance {row['instance_id']}"
                   + (f"  fields: {fields}" if fields else ""))
        if row.get("instructions"):
            typer.echo(f"  instructions: {' '.join(str(row['instructions']).split())}")


@app.command("complete")
def complete_command(task: str = typer.Argument(..., help="User task id (from `bpmn-runner tasks`)."),
                     data: Optional[str] = typer.Option(None, "--data", help="Form data as a JSON object."),
                     data_file: Optional[Path] = typer.Option(None, "--data-file", help="Form data from a JSON file."),
                     db: Optional[str] = DbOpt, as_json: bool = JsonOpt) -> None:
    """Complete an open user task with data, and run the instance to its next wait."""
    out = _store_command(lambda rt: rt.complete_task(task, parse_data(data, data_file)), db, as_json=as_json)
    if as_json:
        _echo_json(out)
        return
    where = f", waits at {_waiting_text(out['waiting'])}" if out["waiting"] else ""
    typer.echo(f"instance {out['instance_id']}: {out['status']}{where}")


@app.command("message")
def message_command(name: str = typer.Argument(..., help="Message name, as in the diagram."),
                    correlation: Optional[list[str]] = typer.Option(
                        None, "--correlation", "-c", help="KEY=VALUE; matches the instance whose correlation key "
                                                          "(e.g. zeebe:subscription =orderId) has that value."),
                    business_key: Optional[str] = typer.Option(None, "--business-key", "-k",
                                                               help="Correlate by business key (Camunda 7 style)."),
                    data: Optional[str] = typer.Option(None, "--data", help="Message payload as a JSON object."),
                    message_id: Optional[str] = typer.Option(None, "--id",
                                                             help="Message id: a second message with it is refused."),
                    ttl: float = typer.Option(3600.0, "--ttl", min=0,
                                              help="Seconds to buffer the message when nothing waits for it yet."),
                    db: Optional[str] = DbOpt, as_json: bool = JsonOpt) -> None:
    """Deliver a message to the instance waiting for it, start an instance at a message start event, or
    buffer it for --ttl seconds until an instance waits for it."""
    out = _store_command(lambda rt: rt.publish_message(
        name, correlations=_parse_correlations(correlation), payload=parse_data(data, None),
        business_key=business_key, message_id=message_id, ttl=ttl), db, as_json=as_json)
    if as_json:
        _echo_json(out)
        return
    outcome = out["outcome"]
    if outcome == "delivered":
        typer.echo(f"message {name!r} delivered to instance {out['instance_id']} (now {out['status']})")
    elif outcome == "started":
        typer.echo(f"message {name!r} started instance {out['instance_id']} (now {out['status']})")
    elif outcome == "buffered":
        typer.echo(f"message {name!r}: nothing waits for it yet; buffered until {_when(out['expires_at'])} UTC")
    else:
        typer.echo(f"message {name!r}: {outcome}")


@app.command("signal")
def signal_command(name: str = typer.Argument(..., help="Signal name, as in the diagram."),
                   data: Optional[str] = typer.Option(None, "--data", help="Signal payload as a JSON object."),
                   db: Optional[str] = DbOpt, as_json: bool = JsonOpt) -> None:
    """Broadcast a signal to every instance waiting for it (and start processes with a signal start event)."""
    out = _store_command(lambda rt: rt.send_signal(name, parse_data(data, None)), db, as_json=as_json)
    if as_json:
        _echo_json(out)
    else:
        typer.echo(f"signal {name!r}: caught by {len(out['delivered'])} instance(s)"
                   + (f", started {len(out['started'])}" if out["started"] else ""))
        for error in out.get("errors", []):
            typer.echo(f"error: {error}", err=True)
    raise typer.Exit(EXIT_FAILED if out.get("errors") else EXIT_OK)


@app.command("retry")
def retry_command(instance: str = typer.Argument(..., help="Instance id with an incident."),
                  db: Optional[str] = DbOpt, as_json: bool = JsonOpt) -> None:
    """Resume an instance with an incident: its failed jobs get fresh attempts, due now, for a worker to run."""
    out = _store_command(lambda rt: rt.retry(instance), db, as_json=as_json)
    if as_json:
        _echo_json(out)
    else:
        typer.echo(f"instance {out['instance_id']}: {out['jobs']} job(s) due again; a worker will run them")


@app.command("cancel")
def cancel_command(instance: str = typer.Argument(..., help="Instance id."),
                   db: Optional[str] = DbOpt, as_json: bool = JsonOpt) -> None:
    """Cancel an open instance: its jobs and waits are removed; it keeps its history."""
    out = _store_command(lambda rt: rt.cancel(instance), db, as_json=as_json)
    if as_json:
        _echo_json(out)
    else:
        typer.echo(f"instance {out['instance_id']}: cancelled")


@app.command("cleanup")
def cleanup_command(finished_before: str = typer.Option(..., "--finished-before", help="Remove instances that "
                                                        "ended before this date (2026-01-31, or an ISO time; UTC)."),
                    keep_history: bool = typer.Option(False, "--keep-history", help="Keep their history rows and "
                                                      "messages (heatmaps and reports still count them)."),
                    db: Optional[str] = DbOpt, as_json: bool = JsonOpt) -> None:
    """Remove finished instances (completed, failed, cancelled), in batches; running ones are never touched."""
    from .store.retention import parse_before

    def action(rt: Any) -> dict[str, int]:
        return rt.store.cleanup(parse_before(finished_before), keep_history=keep_history)

    out = _store_command(action, db, as_json=as_json)
    if as_json:
        _echo_json(out)
    else:
        typer.echo(f"removed {out['instances']} instance(s) that ended before {finished_before}"
                   + ("" if keep_history else f", with {out['history']} history row(s)"))


@app.command("worker")
def worker_command(handlers: Optional[list[str]] = HandlersOpt,
                   until_idle: bool = typer.Option(False, "--until-idle",
                                                   help="Exit once no job is due and none is held by another "
                                                        "worker (timers due later do not keep it running)."),
                   concurrency: int = typer.Option(1, "--concurrency", "-n", min=1, help="Jobs run at once."),
                   lease: float = typer.Option(30.0, "--lease", min=0.1,
                                               help="Seconds a claimed job stays this worker's; renewed while its "
                                                    "handler runs."),
                   poll: float = typer.Option(0.5, "--poll", min=0.01, help="Longest pause between looks for work."),
                   worker_id: Optional[str] = typer.Option(None, "--id", help="Worker name (default host:pid)."),
                   verbose: bool = typer.Option(False, "--verbose", "-v", help="Say what happens on stderr."),
                   db: Optional[str] = DbOpt) -> None:
    """Run jobs from the store: service tasks with their handlers, due timers and message deliveries.

    Several workers (processes, on one host with SQLite, on any hosts with PostgreSQL) share the work; each job
    is leased, and a job whose worker died is taken over when its lease expires. SIGTERM finishes the jobs in hand.
    """
    import signal as signals

    from .worker import Worker, default_worker_id

    def go() -> Any:
        runtime = _open_runtime(db, handlers, worker_id=worker_id or default_worker_id())
        log = (lambda text: typer.echo(text, err=True)) if verbose else None
        worker = Worker(runtime, worker_id=runtime.worker_id, concurrency=concurrency, lease=lease, poll=poll,
                        log=log)
        previous = None
        try:
            previous = signals.signal(signals.SIGTERM, lambda *_: worker.stop())
        except ValueError:  # not the main thread (tests)
            pass
        try:
            return worker.run(until_idle=until_idle)
        finally:
            if previous is not None:
                signals.signal(signals.SIGTERM, previous)
            runtime.store.close()

    stats = _guard(go)
    typer.echo(f"worker done: {stats.summary()}", err=True)


@app.command("test")
def test_command(
        paths: list[Path] = typer.Argument(..., show_default=False,
                                           help="Scenario files (*.scenario.yaml), folders holding them, or .bpmn "
                                                "files (their scenario files beside them)."),
        coverage_dir: Optional[Path] = typer.Option(None, "--coverage-dir", show_default=False,
                                                    help="Also write an HTML coverage report per diagram here."),
        fail_under: Optional[float] = typer.Option(None, "--fail-under", min=0, max=100, show_default=False,
                                                   help="Exit 1 when the total coverage is below N percent."),
) -> None:
    """Run scenario files: PASS/FAIL per scenario, then `<diagram>: coverage NN.N%` per diagram.

    Exit 0 when every scenario passes, 1 when one fails (or coverage is under --fail-under), 3 when a scenario
    file or diagram is malformed (`file:line: error: message`).
    """
    from .coverage import format_line, write_reports
    from .lint import load_settings
    from .scenarios import ScenarioRunner, find_scenario_files, load_scenario_file
    from .script_unit_tests import find_script_unit_tests, run_script_unit_test

    def go() -> tuple[list[Any], Any, float]:
        files = find_scenario_files(list(paths))
        unit_tests = find_script_unit_tests(list(paths))  # spiffworkflow:unitTests stored in the diagrams
        if not files and not unit_tests:
            raise InvalidOperationError("no scenario files (*.scenario.yaml) or script unit tests in "
                                        + ", ".join(map(str, paths)))
        loaded = [load_scenario_file(f) for f in files]  # every file is checked before anything runs
        runner = ScenarioRunner()
        started = time.perf_counter()
        results = [r for scenario_file in loaded for r in runner.run_file(scenario_file)]
        trusted = load_settings().trust_scripts
        results += [run_script_unit_test(t, trusted=trusted) for t in unit_tests]
        return results, runner.coverage, time.perf_counter() - started

    results, coverage, seconds = _guard(go)
    for result in results:
        typer.echo(f"{'PASS' if result.passed else 'FAIL'}  {result.title} ({result.seconds * 1000:.0f} ms)")
        if not result.passed:
            typer.echo("\n".join("    " + line for line in result.explain().splitlines()[1:]))
    summaries = coverage.summaries()
    for summary in summaries:
        typer.echo(format_line(summary))
    if coverage_dir is not None:
        written = _guard(lambda: write_reports(coverage, coverage_dir))
        typer.echo(f"coverage reports: {', '.join(str(p) for p in written)}")
    failed = sum(1 for r in results if not r.passed)
    typer.echo(f"{len(results)} scenario{'s' if len(results) != 1 else ''}: {len(results) - failed} passed, "
               f"{failed} failed in {seconds:.2f} s")
    total = coverage.total()["percentage"]
    if fail_under is not None and total < fail_under:
        typer.echo(f"FAIL: coverage {total:.1f}% is below --fail-under {fail_under:g}%", err=True)
        raise typer.Exit(EXIT_FAILED)
    raise typer.Exit(EXIT_FAILED if failed else EXIT_OK)


@app.command("decide")
def decide_command(paths: list[Path] = typer.Argument(..., help="DMN files (the first holds the decision).",
                                                      show_default=False),
                   decision: Optional[str] = typer.Option(None, "--decision", "-d",
                                                          help="Decision id or name (default: the top decision)."),
                   data: Optional[str] = typer.Option(None, "--data", help="Input data as a JSON object."),
                   data_file: Optional[Path] = typer.Option(None, "--data-file", help="Input data from a JSON file."),
                   as_json: bool = JsonOpt) -> None:
    """Evaluate a DMN decision and the decisions it requires."""
    from .decisions import decide, result_as_json

    result = _guard(lambda: decide(paths, decision, parse_data(data, data_file)), as_json=as_json)
    shaped = result_as_json(result)
    for problem in result.errors:
        typer.echo(f"warning: {problem}", err=True)
    if as_json:
        _echo_json(shaped)
    else:
        typer.echo(f"{result.decision_name} [{result.decision_id}]: {json.dumps(shaped['result'])}")
        for name, value in shaped["results"].items():
            if name != result.decision_name:
                typer.echo(f"  {name}: {json.dumps(value)}")
    if result.errors:
        raise typer.Exit(EXIT_FAILED)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except DefinitionError as exc:  # pragma: no cover - commands guard their own errors
        typer.echo(str(exc), err=True)
        sys.exit(EXIT_DEFINITION)
