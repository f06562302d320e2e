"""Conditional events as Camunda evaluates them: a condition over a variable that does not exist yet is false; with
`camunda:variableName` / `variableEvents` the condition is checked again only when that variable changes."""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.conditional import ConditionalEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from .. import expressions
from ..errors import ExpressionError
from ..namespaces import CAMUNDA_NS, NSMAP

_ABSENT = {"__bpmn_runner__": "absent"}


def annotate(spec: Any, node: Any) -> None:
    """Copy the Camunda 7 filters of a conditional event definition onto its spec's event definition."""
    definition = getattr(spec, "event_definition", None)
    if not isinstance(definition, ConditionalEventDefinition):
        return
    found = node.xpath("./bpmn:conditionalEventDefinition", namespaces=NSMAP)
    if not found:
        return
    definition.runner_variable = (found[0].get(f"{{{CAMUNDA_NS}}}variableName") or "").strip() or None
    events = (found[0].get(f"{{{CAMUNDA_NS}}}variableEvents") or "").replace(" ", "")
    definition.runner_variable_events = [e for e in events.split(",") if e] or None


def variables(task: Any) -> dict[str, Any]:
    """The process variables as the waiting event sees them: its own data, updated by the last completed step
    (SpiffWorkflow keeps data per branch; Camunda has one variable scope)."""
    view = dict(task.data)
    top = task.workflow.top_workflow
    candidates = [getattr(w, "last_task", None) for w in (top, *top.subprocesses.values())]
    done = [t for t in candidates if t is not None and t is not task]
    if done:
        # the latest; on a tie (a clock that does not move) the innermost, listed last
        view.update(sorted(done, key=lambda t: t.last_state_change)[-1].data)
    return view


def _changed(definition: Any, task: Any, view: dict[str, Any]) -> bool:
    """Whether the watched variable changed in a way the filter listens to since the last check."""
    name = getattr(definition, "runner_variable", None)
    if not name:
        return True
    before = task.internal_data.get("watched", _ABSENT)
    now = view.get(name, _ABSENT)
    first = "watched" not in task.internal_data
    task.internal_data["watched"] = now
    if first:
        return True  # evaluated once when the event is entered
    if before == now:
        return False
    kind = "create" if before == _ABSENT else "delete" if now == _ABSENT else "update"
    events = getattr(definition, "runner_variable_events", None)
    return events is None or kind in events


def _has_fired(self: ConditionalEventDefinition, my_task: Any) -> bool:
    if my_task._get_internal_data("has_fired", False):
        return True
    view = {**variables(my_task), **(my_task.workflow.data_objects or {})}
    if not _changed(self, my_task, view):
        return False
    try:
        fired = bool(expressions.evaluate_condition(self.expression, view,
                                                    trusted=getattr(my_task.workflow.script_engine, "trusted", False)))
    except expressions.MissingVariableError:
        fired = False  # Camunda's tryEvaluate: a condition over a missing variable is false
    except ExpressionError as exc:
        spec = my_task.task_spec
        raise ExpressionError(exc.message, element_id=getattr(spec, "bpmn_id", None)) from None
    if fired:
        my_task.data.update(view)
    my_task._set_internal_data(has_fired=fired)
    return fired


_REFRESH_TIMERS = BpmnWorkflow.refresh_timers


def _refresh_events(self: BpmnWorkflow) -> None:
    """SpiffWorkflow re-checks only timers after each round of steps; conditional events are checked too, since
    the variables they watch may have changed."""
    _REFRESH_TIMERS(self)
    for task in list(self.event_manager.tasks.values()):
        if isinstance(task.task_spec.event_definition, ConditionalEventDefinition):
            task.task_spec._update(task)
    for workflow in (self, *self.subprocesses.values()):
        if not workflow.completed:
            _start_conditional_event_subprocesses(self, workflow)


def _start_conditional_event_subprocesses(top: BpmnWorkflow, workflow: Any) -> None:
    """An event sub-process with a conditional start starts when its condition turns true (SpiffWorkflow starts
    event sub-processes only for events that are thrown)."""
    start = workflow.spec.start
    state = workflow.task_tree.internal_data.setdefault("runner_conditions", {})
    for name in list(getattr(start, "trigger_specs", []) or []):
        sub_spec = top.subprocess_specs.get(name)
        for event in getattr(sub_spec, "bpmn_start_events", []) or []:
            if not isinstance(event.event_definition, ConditionalEventDefinition):
                continue
            view = variables(workflow.last_task or workflow.task_tree)
            try:
                value = bool(expressions.evaluate_condition(event.event_definition.expression, view))
            except expressions.MissingVariableError:
                value = False
            if value and not state.get(name):
                start.trigger_wf(workflow.task_tree, name)
            state[name] = value


def _has_conditionals(top: Any) -> bool:
    """Whether the process or a process it calls has a conditional event at all (worked out once per workflow)."""
    known = getattr(top, "_runner_conditionals", None)
    if known is None:
        specs = [top.spec, *(getattr(top, "subprocess_specs", None) or {}).values()]
        known = any(isinstance(getattr(task_spec, "event_definition", None), ConditionalEventDefinition)
                    for spec in specs if spec is not None for task_spec in spec.task_specs.values())
        top._runner_conditionals = known
    return known


def fire_now(top: Any) -> None:
    """Check conditional boundary and intermediate events at once, after a task completed and set variables:
    Camunda evaluates them when the variable changes, so a boundary condition made true by the last task of a
    sub-process interrupts it before the sub-process reaches its end."""
    if not _has_conditionals(top):
        return  # most processes: no step pays for this
    waiting = [t for t in list(top.event_manager.tasks.values())
               if isinstance(t.task_spec.event_definition, ConditionalEventDefinition)]
    for task in waiting:
        if task.state != TaskState.WAITING:
            continue
        task.task_spec._update(task)
        if task.state == TaskState.READY and isinstance(task.task_spec, BoundaryEvent):
            task.run()  # before the interrupted activity's scope moves on


def apply() -> None:
    ConditionalEventDefinition.has_fired = _has_fired
    BpmnWorkflow.refresh_timers = _refresh_events
