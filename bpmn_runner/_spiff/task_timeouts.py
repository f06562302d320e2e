"""Camunda 7 timeout task listeners: each has a timer that starts with the user task; when it is due the listener
runs and the task stays open (a cycle runs it again at each repetition)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from .. import cron, expressions
from ..errors import ExpressionError
from . import clock, listeners
from .timers import start_schedule, timer_text


def _timeout_listeners(spec: Any) -> list[dict[str, Any]]:
    return [entry for entry in getattr(spec, "runner_listeners", None) or ()
            if entry["scope"] == "task" and entry["event"] == "timeout" and entry.get("timer")]


def start(spec: Any, task: Any) -> None:
    """The user task was created: start the timer of each timeout listener (its text may be an expression)."""
    found = _timeout_listeners(spec)
    if not found:
        return
    now = clock.now()
    state = []
    for index, listener in enumerate(found):
        kind, text = listener["timer"]["kind"], listener["timer"]["text"]
        if expressions.dialect_of(text) in ("juel", "feel"):
            try:
                text = timer_text(expressions.evaluate_mapping(text, task.data))
            except ExpressionError as exc:
                raise ExpressionError(f"timeout listener timer: {exc.message}",
                                      element_id=getattr(spec, "bpmn_id", None)) from None
        try:
            cycles, due, step = start_schedule(kind, text, now)
        except ExpressionError as exc:
            raise ExpressionError(f"timeout listener: {exc.message}", element_id=getattr(spec, "bpmn_id", None)) \
                from None
        if due is not None:
            state.append({"index": index, "kind": kind, "text": text, "due": due.isoformat(), "remaining": cycles,
                          "step": step})
    task.internal_data["timeouts"] = state


def next_due(task: Any) -> datetime | None:
    """When the task's next timeout listener is due (UTC), or None."""
    dues = [datetime.fromisoformat(entry["due"]) for entry in task.internal_data.get("timeouts") or ()]
    return min(dues) if dues else None


def fire_due(task: Any) -> int:
    """Run the timeout listeners that are due now; returns how many ran."""
    entries = task.internal_data.get("timeouts") or []
    if not entries:
        return 0
    found = _timeout_listeners(task.task_spec)
    now = clock.now()
    fired = 0
    kept = []
    for entry in entries:
        due = datetime.fromisoformat(entry["due"])
        if due > now:
            kept.append(entry)
            continue
        listeners.run_one(task.task_spec, task, found[entry["index"]])
        fired += 1
        if entry["kind"] == "timeCycle" and entry["remaining"] not in (0, 1):
            following = cron.next_fire(entry["text"], due) if cron.is_cron(entry["text"]) else \
                due + timedelta(seconds=entry["step"])
            kept.append({**entry, "due": following.isoformat(),
                         "remaining": entry["remaining"] - 1 if entry["remaining"] > 0 else -1})
    task.internal_data["timeouts"] = kept
    return fired
