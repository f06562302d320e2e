"""Run execution and task listeners at the moments Camunda runs them: take (on the flow), start (after input
mappings), task create/assignment/complete/delete/timeout, end (after output mappings, also when cancelled), and the
process's own start and end."""

from __future__ import annotations

import copy
from typing import Any

from .. import expressions
from ..errors import ExecutionError, ExpressionError
from ..models import Binding, JAVASCRIPT_FORMATS, ListenerCall
from .business_keys import business_key


def fire(spec: Any, task: Any, event: str, scope: str = "execution") -> None:
    """Run the listeners of `spec` for one event, in document order."""
    for listener in getattr(spec, "runner_listeners", None) or ():
        if listener["event"] == event and listener["scope"] == scope:
            _run(spec, task, listener)


def run_one(spec: Any, task: Any, listener: dict[str, Any]) -> None:
    """Run one listener (a timeout task listener whose timer is due)."""
    _run(spec, task, listener)


def fire_process(spec: Any, task: Any) -> None:
    """Process-level execution listeners: start when the instance starts (before its start event), end when it
    ends (after its end event); the handler sees the process id as the element."""
    for listener in getattr(spec, "runner_process_listeners", None) or ():
        _run(spec, task, listener, element_id=task.workflow.spec.name)


def fire_take(task: Any) -> None:
    """Take listeners of the sequence flow from the parent task's element to this one."""
    parent = task.parent
    if parent is None:
        return
    takes = getattr(parent.task_spec, "runner_take", None) or {}
    for listener in takes.get(getattr(task.task_spec, "bpmn_id", None), ()):
        _run(parent.task_spec, task, listener)


def _run(spec: Any, task: Any, listener: dict[str, Any], element_id: str | None = None) -> None:
    engine = task.workflow.top_workflow.script_engine
    element_id = element_id or getattr(spec, "bpmn_id", None) or spec.name
    if listener["kind"] == "script":
        if listener.get("script_format") not in JAVASCRIPT_FORMATS:
            raise ExecutionError(f"{listener['event']} listener: script format {listener.get('script_format')!r} "
                                 f"is not supported", element_id=element_id)
        engine.run_javascript(task, listener["script"] or "", event=listener["event"])
        return
    if listener["kind"] == "expression" and listener["name"] in ("execution.setVariable", "task.setVariable"):
        name, value = (_argument(text, task.data, element_id) for text in listener["arguments"][:2])
        task.data[str(name)] = value
        return
    invoker = getattr(engine, "invoker", None)
    if invoker is None:
        return
    call = ListenerCall(event=listener["event"], listener=listener["name"], scope=listener["scope"],
                        data=copy.deepcopy(task.data), instance_id=invoker.instance_id, element_id=element_id,
                        element_name=getattr(spec, "bpmn_name", "") or "", process_id=task.workflow.spec.name,
                        args=[_argument(text, task.data, element_id) for text in listener["arguments"]],
                        task=dict(task.internal_data.get("user_task") or {}),
                        business_key=business_key(task.workflow))
    binding = Binding(listener["name"], listener["dialect"], "listener")
    result = invoker.call_handler(binding, call, str(task.id))
    if isinstance(result, dict):
        task.data.update(result)
    elif result is not None:
        raise ExecutionError(f"listener handler {listener['name']!r} returned {type(result).__name__}; a listener "
                             f"returns a dict of variables (or None)", element_id=element_id)


def _argument(text: str, data: dict[str, Any], element_id: str) -> Any:
    if text in ("execution", "task"):
        return copy.deepcopy(data)
    try:
        return expressions.evaluate("${" + text + "}", data)
    except ExpressionError as exc:
        raise ExpressionError(f"listener argument {text!r}: {exc.message}", element_id=element_id) from None
