"""What the durable commands share: opening the store around an action, carrying moved instances on to their next
wait, naming the instance acted on, and the options and texts they have in common."""

from __future__ import annotations

from typing import Any, Callable, Optional

import typer

from ..errors import InvalidOperationError
from .common import environment, guard_json

STATUS_HELP = ("running (work a worker can do now), waiting (for a person, a message, a signal or a later timer), "
               "completed, failed, incident, cancelled")


def store_command(action: Callable[[Any], Any], db: Optional[str], *, as_json: bool,
                  handlers: Optional[list[str]] = None, moves: Optional[Callable[[Any], list[str]]] = None,
                  commit: Optional[str] = None, user: Optional[str] = None) -> Any:
    """Open the store, run `action(runtime)`, close; errors become one line and their exit code. With
    --handlers (and the entry points) the bindings are checked before an instance starts, and the instances
    `moves(out)` names are carried on in-process to their next wait (see `carry_on`), committing as `commit` says
    (None: the project's setting)."""
    from ..durable import open_runtime

    def go() -> Any:
        env = environment(handlers, entry_points=bool(handlers), commit=commit, user=user)
        with open_runtime(db, env, check_bindings=bool(handlers)) as runtime:
            out = action(runtime)
            if handlers and moves is not None:
                carry_on(runtime, out, moves(out))
            return out

    out = guard_json(go, as_json=as_json)
    if not as_json:
        for error in out.get("handler_errors", []) if isinstance(out, dict) else []:
            typer.echo(f"error: {error}", err=True)
    return out


def carry_on(runtime: Any, out: dict[str, Any], instance_ids: list[str]) -> None:
    """Run the service tasks of the instances a command moved whose handlers are here (as a worker does), so they
    do not sit `running` until a worker comes; update `out` to where they are now. With wait-state commits the
    command's own step has run most of them already (`handlers_run`)."""
    stats = runtime.run_to_wait(instance_ids)
    out["jobs_run"] = stats.service + out.pop("handlers_run", 0)
    if stats.errors:
        out["handler_errors"] = out.get("handler_errors", []) + list(stats.errors)
    instance_id = out.get("instance_id")
    if stats.service and instance_id in instance_ids:
        record = runtime.store.get_instance(instance_id)
        out["status"], out["waiting"] = record.status, record.waiting
        if record.error:
            out["error"] = record.error
        out.pop("new_service_jobs", None)


def moved(out: dict[str, Any]) -> list[str]:
    """The instance a start, complete, message or retry moved (none when it failed or was only buffered)."""
    return [out["instance_id"]] if out.get("instance_id") and out.get("status") not in ("failed", None) else []


HANDLERS_RUN_HELP = ("Handler modules; the service tasks the step reaches whose handlers are here run in-process, "
                     "to the next wait (the others stay for a worker).")
HandlersRunOpt = typer.Option(None, "--handlers", "-H", help=HANDLERS_RUN_HELP)


def parse_correlations(items: Optional[list[str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InvalidOperationError(f"--correlation {item!r} must be KEY=VALUE, like orderId=42")
        out[key.strip()] = value
    return out


def target(rt: Any, instance: Optional[str], business_key: Optional[str]) -> str:
    """The instance a command acts on: its id (or prefix), or the one open instance with --business-key."""
    if (instance is None) == (business_key is None):
        raise InvalidOperationError("name the instance by its id or by --business-key K (one of the two)")
    return instance if instance is not None else rt.instance_by_business_key(business_key)


INSTANCE_ARG_HELP = "Instance id (or a unique prefix of it); or give --business-key instead."
BUSINESS_KEY_HELP = "The one open instance with this business key (several: an error naming them)."


def waiting_text(waiting: list[dict[str, Any]]) -> str:
    parts = []
    for w in waiting:
        detail = f" {w.get('detail')}" if w.get("detail") else ""
        parts.append(f"{w.get('element_id')} ({w.get('kind')}{detail})")
    return ", ".join(parts)
