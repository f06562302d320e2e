"""Commands on durable instances in a store: start, deploy, instances, show, tasks, claim, unclaim, complete,
message, signal, retry, cancel. Each opens the store with the command's Environment, calls the Runtime, and prints."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer

from ..errors import InvalidOperationError
from .common import (EXIT_FAILED, EXIT_OK, CommitOpt, DbOpt, HandlersOpt, JsonOpt, PathsArg, app, data_text,
                     echo_json, parse_data, when)
from .store_commands import (BUSINESS_KEY_HELP, INSTANCE_ARG_HELP, STATUS_HELP, HandlersRunOpt, moved,
                             parse_correlations, store_command, target, waiting_text)

UserOpt = typer.Option(None, "--user", help="Who does this (recorded on the history; get_current_user() in "
                                            "SpiffArena scripts); default $BPMN_RUNNER_USER.")


@app.command("start")
def start_command(paths: list[Path] = PathsArg,
                  process: Optional[str] = typer.Option(None, "--process", "-p", help="Process id to start."),
                  business_key: Optional[str] = typer.Option(None, "--business-key", "-k",
                                                             help="Business key (need not be unique)."),
                  data: Optional[str] = typer.Option(None, "--data", help="Start data as a JSON object."),
                  data_file: Optional[Path] = typer.Option(None, "--data-file", help="Start data from a JSON file."),
                  handlers: Optional[list[str]] = HandlersOpt, user: Optional[str] = UserOpt,
                  commit: Optional[str] = CommitOpt,
                  db: Optional[str] = DbOpt, as_json: bool = JsonOpt) -> None:
    """Store the diagrams, start an instance, run it to its first wait, commit, and print the instance id.

    Service tasks become jobs that `bpmn-runner worker` runs; with --handlers the bindings are checked first and
    the service tasks whose handlers are given run here, to the next wait. A process started by a timer start
    event is scheduled instead: a worker starts a new instance at each repetition.
    """
    out = store_command(lambda rt: rt.start(list(paths), process, parse_data(data, data_file),
                                            business_key=business_key), db, as_json=as_json, handlers=handlers,
                        moves=moved, commit=commit, user=user)
    if as_json:
        echo_json(out)
    elif out["status"] == "scheduled":
        for timer in out["timer_starts"]:
            typer.echo(f"{out['process_id']}: scheduled; {_timer_start_text(timer)}")
    else:
        typer.echo(out["instance_id"])
        where = f", waits at {waiting_text(out['waiting'])}" if out["waiting"] else ""
        typer.echo(f"{out['process_id']}: {out['status']}{where}", err=True)
        if out.get("error"):
            typer.echo(f"error: {out['error']}", err=True)
    raise typer.Exit(EXIT_FAILED if out["status"] == "failed" else EXIT_OK)


@app.command("deploy")
def deploy_command(paths: list[Path] = PathsArg, db: Optional[str] = DbOpt, as_json: bool = JsonOpt) -> None:
    """Store the diagrams without starting anything: processes with message or signal start events then start
    when `message` or `signal` (or an instance's throw) arrives; a timer start event is scheduled, and a worker
    starts a new instance at each repetition."""
    def act(rt: Any) -> dict[str, Any]:
        digest, definitions = rt.deploy(list(paths))
        processes = definitions.executable_processes()
        return {"definition": digest, "processes": processes, "notes": definitions.notes,
                "timer_starts": [t for t in rt.timer_start_jobs() if t["process_id"] in processes]}

    out = store_command(act, db, as_json=as_json)
    if as_json:
        echo_json(out)
        return
    typer.echo(f"deployed {', '.join(out['processes']) or 'no executable process'} (definition {out['definition'][:12]})")
    for note in out["notes"]:
        typer.echo(f"note: {note}")
    for timer in out["timer_starts"]:
        typer.echo(f"{timer['process_id']}: {_timer_start_text(timer)}")


def _timer_start_text(timer: dict[str, Any]) -> str:
    left = timer["remaining"]
    repeats = "" if left in (0, 1) else (", then per repetition" if left < 0 else f", {left} time(s) in all")
    return (f"timer start event {timer['element_id']} ({timer['timer']}) starts a new instance at "
            f"{timer['due_at']}{repeats} (a running `bpmn-runner worker` starts them)")


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
    from ..store import STATUSES

    def action(rt: Any) -> list[dict[str, Any]]:
        if status is not None and status not in STATUSES:
            raise InvalidOperationError(f"--status {status!r} is not a status; use one of {', '.join(STATUSES)}")
        return rt.list_instances(status=status, process_id=process, business_key=business_key, limit=limit,
                                 after=after)

    rows = store_command(action, db, as_json=as_json)
    more = bool(limit) and len(rows) == limit
    if as_json:
        echo_json({"instances": rows, **({"next_after": rows[-1]["instance_id"]} if more else {})})
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
def show_command(instance: Optional[str] = typer.Argument(None, help=INSTANCE_ARG_HELP),
                 business_key: Optional[str] = typer.Option(None, "--business-key", "-k", help=BUSINESS_KEY_HELP),
                 db: Optional[str] = DbOpt, as_json: bool = JsonOpt) -> None:
    """Show one instance: status, where it waits, incidents, data and history (--json: with the traceback of
    each incident's handler)."""
    shown = store_command(lambda rt: rt.show(target(rt, instance, business_key)), db, as_json=as_json)
    if as_json:
        echo_json(shown)
        return
    version = f" v{shown['process_version']}" if shown.get("process_version") else ""
    typer.echo(f"instance {shown['instance_id']}: {shown['status']}")
    typer.echo(f"process: {shown['process_id']}{version}"
               + (f", business key {shown['business_key']}" if shown["business_key"] else ""))
    typer.echo(f"started {when(shown['created_at'])}"
               + (f" by {shown['started_by']}" if shown.get("started_by") else "")
               + f", updated {when(shown['updated_at'])}"
               + (f", ended {when(shown['ended_at'])}" if shown.get("ended_at") else ""))
    for c in shown.get("completed_by", []):
        typer.echo(f"user task {c['name'] or c['element_id']} [{c['element_id']}] completed by {c['user']} "
                   f"{when(c['at'])}")
    for w in shown["waiting"]:
        extra = f" key={w['correlation_key']}" if w.get("correlation_key") else ""
        due = f" due {when(w['due_at'])}" if w.get("due_at") else ""
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
        typer.echo(f"  {when(h['at'])}  {h['event']:<9}  {h['element_id']}{detail}{changes}")
    typer.echo("data: " + data_text(shown["data"]))


@app.command("tasks")
def tasks_command(instance: Optional[str] = typer.Option(None, "--instance", "-i", help="Only this instance."),
                  assignee: Optional[str] = typer.Option(None, "--assignee", help="Only tasks assigned to this user."),
                  group: Optional[str] = typer.Option(None, "--group", help="Only tasks this candidate group may "
                                                                            "claim."),
                  limit: Optional[int] = typer.Option(None, "--limit", "-n", min=1,
                                                      help="At most this many (oldest first)."),
                  after: Optional[str] = typer.Option(None, "--after", help="The page after this place in the "
                                                      "list (printed under a page as `more: --after ...`)."),
                  db: Optional[str] = DbOpt, as_json: bool = JsonOpt) -> None:
    """List open user tasks, with the form fields `complete --data` fills in and who may work on them; page with
    --limit and --after."""
    from ..store.page_reads import task_mark

    rows = store_command(lambda rt: rt.list_tasks(instance, assignee=assignee, group=group, limit=limit,
                                                  after=after), db, as_json=as_json)
    following = task_mark(rows[-1]["since"], rows[-1]["instance_id"], rows[-1]["task_id"]) \
        if limit and len(rows) == limit else None
    if as_json:
        echo_json({"tasks": rows, **({"next_after": following} if following else {})})
        return
    if not rows:
        typer.echo("no open user tasks")
        return
    for row in rows:
        fields = ", ".join(f"{f['id']}:{f.get('type') or 'string'}" for f in row["fields"])
        typer.echo(f"{row['task_id']}  {row['name']} [{row['element_id']}]  instance {row['instance_id']}"
                   + (f"  fields: {fields}" if fields else "") + _assignment_text(row.get("assignment") or {}))
        if row.get("instructions"):
            typer.echo(f"  instructions: {' '.join(str(row['instructions']).split())}")
    if following:
        typer.echo(f"(more: --after {following})")


def _assignment_text(assignment: dict[str, Any]) -> str:
    labels = (("assignee", "assignee"), ("candidateUsers", "users"), ("candidateGroups", "groups"),
              ("dueDate", "due"), ("followUpDate", "follow-up"), ("priority", "priority"), ("formKey", "form"))
    parts = [f"{label}: {', '.join(map(str, value)) if isinstance(value, list) else value}"
             for key, label in labels if (value := assignment.get(key)) not in (None, "", [])]
    return ("  " + "  ".join(parts)) if parts else ""


@app.command("claim")
def claim_command(task: str = typer.Argument(..., help="User task id (from `bpmn-runner tasks`)."),
                  user: str = typer.Argument(..., help="The user who takes the task."),
                  handlers: Optional[list[str]] = HandlersOpt,
                  db: Optional[str] = DbOpt, as_json: bool = JsonOpt) -> None:
    """Assign an open user task to a user, as Tasklist's claim (assignment listeners need --handlers)."""
    out = store_command(lambda rt: rt.claim_task(task, user), db, as_json=as_json, handlers=handlers)
    echo_json(out) if as_json else typer.echo(f"instance {out['instance_id']}: task claimed by {user}")


@app.command("unclaim")
def unclaim_command(task: str = typer.Argument(..., help="User task id (from `bpmn-runner tasks`)."),
                    db: Optional[str] = DbOpt, as_json: bool = JsonOpt) -> None:
    """Clear the assignee of an open user task, as Tasklist's unclaim."""
    out = store_command(lambda rt: rt.claim_task(task, None), db, as_json=as_json)
    echo_json(out) if as_json else typer.echo(f"instance {out['instance_id']}: task unclaimed")


@app.command("complete")
def complete_command(task: str = typer.Argument(..., help="User task id (from `bpmn-runner tasks`)."),
                     data: Optional[str] = typer.Option(None, "--data", help="Form data as a JSON object."),
                     data_file: Optional[Path] = typer.Option(None, "--data-file", help="Form data from a JSON file."),
                     handlers: Optional[list[str]] = HandlersOpt, user: Optional[str] = UserOpt,
                     commit: Optional[str] = CommitOpt,
                     db: Optional[str] = DbOpt, as_json: bool = JsonOpt) -> None:
    """Complete an open user task with data, and run the instance to its next wait: with --handlers through the
    service tasks whose handlers are given (listeners need them too). The completing user (--user, else
    $BPMN_RUNNER_USER) is recorded on the task's history."""
    out = store_command(lambda rt: rt.complete_task(task, parse_data(data, data_file)), db, as_json=as_json,
                        handlers=handlers, moves=moved, commit=commit, user=user)
    if as_json:
        echo_json(out)
        return
    where = f", waits at {waiting_text(out['waiting'])}" if out["waiting"] else ""
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
                    handlers: Optional[list[str]] = HandlersRunOpt,
                    commit: Optional[str] = CommitOpt,
                    db: Optional[str] = DbOpt, as_json: bool = JsonOpt) -> None:
    """Deliver a message to the instance waiting for it, start an instance at a message start event, or
    buffer it for --ttl seconds until an instance waits for it. With --handlers the instance runs on to its next
    wait through the service tasks whose handlers are given."""
    out = store_command(lambda rt: rt.publish_message(
        name, correlations=parse_correlations(correlation), payload=parse_data(data, None),
        business_key=business_key, message_id=message_id, ttl=ttl), db, as_json=as_json, handlers=handlers,
        moves=moved, commit=commit)
    if as_json:
        echo_json(out)
        raise typer.Exit(1 if out.get("outcome") == "incident" else 0)
    outcome = out["outcome"]
    if outcome == "delivered":
        typer.echo(f"message {name!r} delivered to instance {out['instance_id']} (now {out['status']})")
    elif outcome == "started":
        typer.echo(f"message {name!r} started instance {out['instance_id']} (now {out['status']})")
    elif outcome == "buffered":
        typer.echo(f"message {name!r}: nothing waits for it yet; buffered until {when(out['expires_at'])} UTC")
    elif outcome == "incident":
        typer.echo(f"instance {out['instance_id']} is now in an incident: {out['error']}; see `bpmn-runner show "
                   f"{out['instance_id']}`, then `bpmn-runner retry {out['instance_id']}`", err=True)
        raise typer.Exit(1)
    else:
        typer.echo(f"message {name!r}: {outcome}")


@app.command("signal")
def signal_command(name: str = typer.Argument(..., help="Signal name, as in the diagram."),
                   data: Optional[str] = typer.Option(None, "--data", help="Signal payload as a JSON object."),
                   handlers: Optional[list[str]] = HandlersRunOpt,
                   commit: Optional[str] = CommitOpt,
                   db: Optional[str] = DbOpt, as_json: bool = JsonOpt) -> None:
    """Broadcast a signal to every instance waiting for it (and start processes with a signal start event); with
    --handlers each runs on to its next wait through the service tasks whose handlers are given."""
    out = store_command(lambda rt: rt.send_signal(name, parse_data(data, None)), db, as_json=as_json,
                        handlers=handlers, moves=lambda out: out["delivered"] + out["started"], commit=commit)
    if as_json:
        echo_json(out)
    else:
        typer.echo(f"signal {name!r}: caught by {len(out['delivered'])} instance(s)"
                   + (f", started {len(out['started'])}" if out["started"] else ""))
        for error in out.get("errors", []):
            typer.echo(f"error: {error}", err=True)
    raise typer.Exit(EXIT_FAILED if out.get("errors") else EXIT_OK)


@app.command("retry")
def retry_command(instance: Optional[str] = typer.Argument(None, help=INSTANCE_ARG_HELP),
                  business_key: Optional[str] = typer.Option(None, "--business-key", "-k", help=BUSINESS_KEY_HELP),
                  handlers: Optional[list[str]] = HandlersRunOpt,
                  commit: Optional[str] = CommitOpt,
                  db: Optional[str] = DbOpt, as_json: bool = JsonOpt) -> None:
    """Resume an instance with an incident: its failed jobs get fresh attempts, due now, for a worker to run (with
    --handlers, run here, on to the next wait)."""
    out = store_command(lambda rt: rt.retry(target(rt, instance, business_key)), db, as_json=as_json,
                        handlers=handlers, moves=moved, commit=commit)
    if as_json:
        echo_json(out)
    elif out.get("messages"):
        for m in out["messages"]:
            typer.echo(f"instance {out['instance_id']}: message {m['message']!r} "
                       + (f"still cannot be delivered: {m.get('error')}" if m.get("outcome") == "incident" else
                          f"{m.get('outcome')} (now {out['status']})"))
    elif "jobs_run" in out:
        where = f", waits at {waiting_text(out['waiting'])}" if out.get("waiting") else ""
        typer.echo(f"instance {out['instance_id']}: {out['jobs']} job(s) due again, {out['jobs_run']} run here; "
                   f"now {out['status']}{where}")
    else:
        typer.echo(f"instance {out['instance_id']}: {out['jobs']} job(s) due again; a worker will run them")


@app.command("cancel")
def cancel_command(instance: Optional[str] = typer.Argument(None, help=INSTANCE_ARG_HELP),
                   business_key: Optional[str] = typer.Option(None, "--business-key", "-k", help=BUSINESS_KEY_HELP),
                   db: Optional[str] = DbOpt, as_json: bool = JsonOpt) -> None:
    """Cancel an open instance: its jobs and waits are removed; it keeps its history."""
    out = store_command(lambda rt: rt.cancel(target(rt, instance, business_key)), db, as_json=as_json)
    if as_json:
        echo_json(out)
    else:
        typer.echo(f"instance {out['instance_id']}: cancelled")


@app.command("cleanup")
def cleanup_command(finished_before: str = typer.Option(..., "--finished-before", help="Remove instances that "
                                                        "ended before this date (2026-01-31, or an ISO time; UTC)."),
                    keep_history: bool = typer.Option(False, "--keep-history", help="Keep their history rows and "
                                                      "messages (heatmaps and reports still count them)."),
                    db: Optional[str] = DbOpt, as_json: bool = JsonOpt) -> None:
    """Remove finished instances (completed, failed, cancelled), in batches; running ones are never touched."""
    out = store_command(lambda rt: rt.cleanup(finished_before, keep_history=keep_history), db, as_json=as_json)
    if as_json:
        echo_json(out)
    else:
        typer.echo(f"removed {out['instances']} instance(s) that ended before {finished_before}"
                   + ("" if keep_history else f", with {out['history']} history row(s)"))
