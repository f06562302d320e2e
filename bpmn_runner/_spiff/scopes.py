"""Camunda's element life cycle on SpiffWorkflow tasks: variable scopes (input mappings create local variables
that vanish when the element ends unless an output mapping carries them out; call activities pass only what the
dialect says), user task assignment, and the moments listeners run (see listeners.py)."""

from __future__ import annotations

import copy
from typing import Any

from SpiffWorkflow.bpmn.parser.ProcessParser import ProcessParser
from SpiffWorkflow.bpmn.parser.TaskParser import TaskParser
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import CallActivity, SubWorkflowTask
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.specs.base import TaskSpec

from .. import expressions
from ..errors import ExpressionError
from ..expressions.decision_result import decision_result_scope
from ..models import TaskReader
from ..namespaces import BPMN_NS
from . import conditional, listeners, task_timeouts
from .bean_calls import bean_resolver
from .business_keys import execution_info
from .specs import SERVICE_CLASSES

_MISSING = {"__bpmn_runner__": "missing"}  # JSON-safe marker for "this variable did not exist before"


def _evaluate(spec: Any, task: Any, source: str, data: dict[str, Any], what: str) -> Any:
    engine = task.workflow.top_workflow.script_engine
    try:
        with expressions.execution_info(execution_info(task, getattr(getattr(engine, "invoker", None),
                                                                     "instance_id", None))), \
                expressions.bean_calls(bean_resolver(task)):
            return expressions.evaluate_mapping(source, data, trusted=getattr(engine, "trusted", False))
    except ExpressionError as exc:
        raise ExpressionError(f"{what}: {exc.message}", element_id=getattr(spec, "bpmn_id", None)) from None


def enter(spec: Any, task: Any) -> None:
    """Evaluate the input mappings into local variables, remembering what they hide."""
    scope = getattr(spec, "runner_scope", None)
    if not scope or "scope" in task.internal_data:
        return
    values = {target: _evaluate(spec, task, source, task.data, f"input mapping {target!r}")
              for target, source in scope["inputs"]}
    state: dict[str, Any] = {"saved": {name: copy.deepcopy(task.data.get(name, _MISSING)) for name in values}}
    if scope["dialect"] == "camunda8" and scope["outputs"]:
        state["snapshot"] = copy.deepcopy(task.data)  # Zeebe: with output mappings, everything set inside is local
    task.internal_data["scope"] = state
    task.data.update(values)


def leave(spec: Any, task: Any, extra: dict[str, Any] | None = None) -> None:
    """Evaluate the output mappings, drop the local variables, then write the outputs."""
    scope = getattr(spec, "runner_scope", None)
    state = task.internal_data.pop("scope", None)
    if not scope or state is None:
        return
    view = {**task.data, **(extra or {})}
    outputs = {target: _evaluate(spec, task, source, view, f"output mapping {target!r}")
               for target, source in scope["outputs"]}
    if "snapshot" in state:
        task.data.clear()
        task.data.update(state["snapshot"])
    else:
        for name, old in state["saved"].items():
            if old == _MISSING:
                task.data.pop(name, None)
            else:
                task.data[name] = old
    task.data.update(outputs)


# ----- call activities --------------------------------------------------------------------------------------


def _child_start_data(spec: Any, task: Any) -> dict[str, Any] | None:
    """What the called process starts with, or None for SpiffWorkflow's default (everything)."""
    rules = (getattr(spec, "runner_scope", None) or {}).get("call") or {}
    if rules.get("dialect") == "camunda7":
        data: dict[str, Any] = {}
        local_names = [target for target, _ in (getattr(spec, "runner_scope", None) or {}).get("inputs") or []]
        for rule in rules["in"]:
            if rule.get("all") and rule.get("local"):  # only the call activity's own (input-mapped) variables
                data.update({name: copy.deepcopy(task.data.get(name)) for name in local_names})
            elif rule.get("all"):
                data.update(copy.deepcopy(task.data))
            elif rule.get("expression"):
                data[rule["target"]] = _evaluate(spec, task, rule["expression"], task.data, "camunda:in")
            elif rule.get("source"):
                data[rule["target"]] = copy.deepcopy(task.data.get(rule["source"]))
        return data
    if rules.get("dialect") == "camunda8" and not rules["all_parent"]:
        inputs = (getattr(spec, "runner_scope", None) or {}).get("inputs") or []
        return {target: copy.deepcopy(task.data.get(target)) for target, _ in inputs}
    return None


def _copy_data(self: Any, my_task: Any, subworkflow: Any) -> None:
    _begin(self, my_task)
    rules = (getattr(self, "runner_scope", None) or {}).get("call") or {}
    if isinstance(self, CallActivity) and rules.get("dialect") == "camunda7":
        # a called process instance has its own business key: none unless camunda:in businessKey passes one
        key = rules.get("business_key")
        value = _evaluate(self, my_task, key, my_task.data, "camunda:in businessKey") if key else None
        subworkflow.business_key = None if value is None else str(value)
    data = _child_start_data(self, my_task)
    if data is None:
        original = _CALL_COPY if isinstance(self, CallActivity) else _SUB_COPY
        return original(self, my_task, subworkflow)
    start = subworkflow.get_next_task(subworkflow.task_tree, skip_subprocesses=True, spec_name="Start")
    start.set_data(**data)


def _update_data(self: Any, my_task: Any, subworkflow: Any) -> None:
    rules = (getattr(self, "runner_scope", None) or {}).get("call") or {}
    child = subworkflow.last_task.data if subworkflow.last_task is not None else {}
    if rules.get("dialect") == "camunda7":
        state = my_task.internal_data.get("scope")
        for rule in rules["out"]:
            if rule.get("local") and state is not None:  # local to the call activity: gone unless mapped out
                names = list(child) if rule.get("all") else [rule["target"]]
                for name in names:
                    state["saved"].setdefault(name, copy.deepcopy(my_task.data.get(name, _MISSING)))
            if rule.get("all"):
                my_task.data.update(copy.deepcopy(child))
            elif rule.get("expression"):
                my_task.data[rule["target"]] = _evaluate(self, my_task, rule["expression"], child, "camunda:out")
            elif rule.get("source"):
                my_task.data[rule["target"]] = copy.deepcopy(child.get(rule["source"]))
        _finish(self, my_task)
        return
    if rules.get("dialect") == "camunda8":
        scope = getattr(self, "runner_scope", None) or {}
        if rules["all_child"] and not scope.get("outputs"):
            my_task.data.update(copy.deepcopy(child))
        _finish(self, my_task, extra=copy.deepcopy(child))
        return
    original = _CALL_UPDATE if isinstance(self, CallActivity) else _SUB_UPDATE
    original(self, my_task, subworkflow)
    _finish(self, my_task)


# ----- hooks ------------------------------------------------------------------------------------------------

_CALL_COPY = CallActivity.copy_data
_CALL_UPDATE = CallActivity.update_data
_SUB_COPY = SubWorkflowTask.copy_data
_SUB_UPDATE = SubWorkflowTask.update_data
_ON_READY = TaskSpec._on_ready
_ON_COMPLETE = TaskSpec._on_complete
_PARSE_NODE = TaskParser.parse_node


_ON_CANCEL = TaskSpec._on_cancel


def _begin(spec: Any, task: Any) -> None:
    """Camunda's order when an element starts: take listeners, input mappings, start listeners, task create."""
    parent = task.parent
    takes = getattr(parent.task_spec, "runner_take", None) if parent is not None else None
    if not (takes or _has_work(spec)) or task.internal_data.get("began"):
        return  # most elements: nothing to do, and nothing added to the saved state
    task.internal_data["began"] = True
    listeners.fire_take(task)
    enter(spec, task)
    listeners.fire(spec, task, "start")
    if isinstance(spec, UserTask):
        _assign(spec, task)
        listeners.fire(spec, task, "create", "task")
        if (task.internal_data.get("user_task") or {}).get("assignee"):
            listeners.fire(spec, task, "assignment", "task")
        task_timeouts.start(spec, task)


def _assign(spec: Any, task: Any) -> None:
    """Evaluate assignee, candidates, dates and priority as the task is created (Camunda evaluates them then)."""
    values: dict[str, Any] = {}
    for name, text in (getattr(spec, "runner_assignment", None) or {}).items():
        value = _evaluate(spec, task, text, task.data, name)
        if name in ("candidateUsers", "candidateGroups") and isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        elif name == "priority" and isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        values[name] = value
    task.internal_data["user_task"] = values


def _has_work(spec: Any) -> bool:
    return bool(getattr(spec, "runner_scope", None) or getattr(spec, "runner_listeners", None)
                or getattr(spec, "runner_assignment", None) or isinstance(spec, UserTask))


def _finish(spec: Any, task: Any, extra: dict[str, Any] | None = None) -> None:
    """... and when it ends: task complete listeners, output mappings, end listeners."""
    if not _has_work(spec):
        return
    if isinstance(spec, UserTask):
        listeners.fire(spec, task, "complete", "task")
    leave(spec, task, extra)
    listeners.fire(spec, task, "end")


def _on_ready(self: Any, my_task: Any) -> Any:
    if not isinstance(self, SubWorkflowTask):
        _begin(self, my_task)
    return _ON_READY(self, my_task)


def _on_complete(self: Any, my_task: Any) -> Any:
    if not isinstance(self, SubWorkflowTask):
        _finish(self, my_task, decision_result_scope(my_task.internal_data))
    if getattr(self, "runner_process_listeners", None):
        listeners.fire_process(self, my_task)
    return _ON_COMPLETE(self, my_task)


def _on_cancel(self: Any, my_task: Any) -> Any:
    """A started element that is cancelled (boundary event, terminate) gets its delete and end listeners."""
    if my_task.internal_data.get("began") and getattr(self, "runner_listeners", None):
        if isinstance(self, UserTask):
            listeners.fire(self, my_task, "delete", "task")
        listeners.fire(self, my_task, "end")
    return _ON_CANCEL(self, my_task)


def _reader(parser: Any) -> TaskReader | None:
    """The loader's readers, which our parser classes carry (a stock SpiffWorkflow parser has none)."""
    return getattr(parser, "runner_reader", None)


def _parse_node(self: Any) -> Any:
    spec = _PARSE_NODE(self)
    task = getattr(self, "task", None)
    reader = _reader(self.process_parser.parser)
    if task is not None and reader is not None and not hasattr(task, "runner_scope"):
        # service tasks apply their own mappings around the handler
        task.runner_scope = None if isinstance(task, SERVICE_CLASSES) else reader.scope(self.node)
        task.runner_listeners = reader.listeners(self.node)
        takes: dict[str, list[dict[str, Any]]] = {}
        for flow in self.process_parser.get_outgoing_sequence_flows(self.bpmn_id):
            found = [entry for entry in reader.listeners(flow) if entry["event"] in ("take", "")]
            if found:
                takes.setdefault(flow.get("targetRef"), []).extend(found)
        task.runner_take = takes
        conditional.annotate(task, self.node)
        task.runner_assignment = reader.assignment(self.node)
    return spec


_CREATE_SPEC = ProcessParser.create_spec


def _create_spec(self: Any) -> Any:
    """A process's own execution listeners: start ones run as its Start task completes (the start data is in
    place then), end ones as its End task completes."""
    spec = _CREATE_SPEC(self)
    reader = _reader(self.parser)
    if self.node.tag != f"{{{BPMN_NS}}}process" or reader is None:
        return spec  # an embedded sub-process: its listeners are the sub-process element's, run by its task
    found = [entry for entry in reader.listeners(self.node) if entry["scope"] == "execution"]
    starts = [entry for entry in found if entry["event"] == "start"]
    ends = [entry for entry in found if entry["event"] == "end"]
    if starts:
        spec.start.runner_process_listeners = starts
    if ends:
        spec.task_specs["End"].runner_process_listeners = ends
    return spec


def apply() -> None:
    ProcessParser.create_spec = _create_spec
    TaskSpec._on_ready = _on_ready
    TaskSpec._on_complete = _on_complete
    TaskSpec._on_cancel = _on_cancel
    TaskParser.parse_node = _parse_node
    for cls in (CallActivity, SubWorkflowTask):
        cls.copy_data = _copy_data
        cls.update_data = _update_data
