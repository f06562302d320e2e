"""What every command shares: the Typer app, common options, the environment from options, errors as one line
and an exit code, JSON input and output, and writing report files."""

from __future__ import annotations

import contextlib
import json
import sys
import traceback
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, NoReturn, Optional

import typer

from ..environment import DEFAULT_TIMER_WAIT, Environment, build_environment
from ..errors import BpmnRunnerError, InvalidOperationError, ReportError
from ..models import SimulateOptions

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
JsonOpt = typer.Option(False, "--json", help="Print one JSON object and nothing else on stdout.")
TrustOpt = typer.Option(False, "--trust-scripts", help="Run scripts and conditions as full Python.")
CommitOpt = typer.Option(None, "--commit",
                         help="Where an instance commits: wait-states (its handlers here run one after another "
                              "until it waits, ends or reaches asyncBefore/asyncAfter or an external task; the "
                              "default) or each-task (every service task a job with its own commit). Default: "
                              "[tool.bpmn-runner] commit, else wait-states.")
BridgeBrokerOpt = typer.Option(None, "--bridge-broker", show_default=False,
                               help="Also run the broker bridge (see `bridge`) with this amqp:// or nats:// broker.")
BridgeConfigOpt = typer.Option(None, "--bridge-config", show_default=False,
                               help="Also run the broker bridge with this TOML file (default with --bridge-broker: "
                                    "[tool.bpmn-runner.bridge]).")


@app.callback()
def _main(debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors.")) -> None:
    _state["debug"] = debug


def environment(handlers: Optional[list[str]] = None, *, entry_points: bool = True, trust_scripts: bool = False,
                simulate: bool = False, simulation: Optional[SimulateOptions] = None, max_steps: Optional[int] = None,
                timer_wait: float = DEFAULT_TIMER_WAIT, user: Optional[str] = None,
                commit: Optional[str] = None) -> Environment:
    """The Environment of a command: its options, the project's settings and (for commands that run or check
    handlers) the `bpmn_runner.handlers` entry points."""
    return build_environment(handler_specs=handlers, entry_points=entry_points, trust_scripts=trust_scripts,
                             simulate=simulate, simulation=simulation, max_steps=max_steps, timer_wait=timer_wait,
                             user=user, commit=commit)


def fail(error: BaseException, *, as_json: bool = False, stdout: Any = None) -> NoReturn:
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


def guard(action: Callable[[], Any], *, as_json: bool = False, stdout: Any = None) -> Any:
    """Run a command's work; any error becomes one line and its exit code (never a bare traceback)."""
    try:
        return action()
    except typer.Exit:
        raise
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        raise typer.Exit(EXIT_FAILED)
    except Exception as exc:
        fail(exc, as_json=as_json, stdout=stdout)


def guard_json(action: Callable[[], Any], *, as_json: bool) -> Any:
    """`guard`, and with --json stdout carries exactly one JSON object: what handlers print goes to stderr."""
    if not as_json:
        return guard(action)
    real_stdout = sys.stdout
    with contextlib.redirect_stdout(sys.stderr):
        return guard(action, as_json=True, stdout=real_stdout)


def parse_data(data: Optional[str], data_file: Optional[Path]) -> dict[str, Any]:
    """`--data` or `--data-file` as a JSON object."""
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


def write_report(target: Path, html: str) -> None:
    """THE place report files are written; a failure is one ReportError naming the file."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise ReportError(f"cannot write {target}: {exc.strerror or exc}") from exc


def echo_json(value: Any) -> None:
    typer.echo(json.dumps(value, default=str, ensure_ascii=False))


def when(epoch: Optional[float]) -> str:
    if epoch is None:
        return ""
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def data_text(data: Any) -> str:
    """Process data for a terminal: indented JSON, cut after 4,000 characters."""
    text = json.dumps(data, indent=2, default=str, ensure_ascii=False)
    if len(text) > 4000:
        text = text[:4000] + "\n… (truncated; use --json for all of it)"
    return text


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"
