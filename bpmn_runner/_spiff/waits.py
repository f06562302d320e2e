"""What a live instance waits for, in the detail a store needs: each timer's due time (also inside an event-based
gateway) and each message and signal catch with what correlates it. Plain values only."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import SignalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.bpmn_spec_mixin import BpmnSpecMixin
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent

from .session import Session
from . import task_timeouts
from .timer_due import timer_due


def _waiting_tasks(session: Session) -> list[Any]:
    return [t for t in list(session.workflow.event_manager.tasks.values())
            if isinstance(t.task_spec, BpmnSpecMixin) and t.task_spec.bpmn_id]


def _parts(definition: Any) -> list[Any]:
    if isinstance(definition, MultipleEventDefinition):
        return list(definition.event_definitions)
    return [definition]


def is_timer_wait(task: Any) -> bool:
    """Whether a waiting task waits for a timer (also as one branch of an event-based gateway or multiple event)."""
    return any(isinstance(p, TimerEventDefinition) for p in _parts(task.task_spec.event_definition))


def timer_waits(session: Session) -> list[tuple[str, str, datetime]]:
    """(task id, element id, due time) of every waiting timer, including one of an event-based gateway."""
    out = []
    for task in _waiting_tasks(session):
        if not is_timer_wait(task):
            continue
        due = timer_due(task)
        if due is not None:
            out.append((str(task.id), task.task_spec.bpmn_id, due))
    for task in session.timeout_tasks():  # a user task's timeout listeners: one timer job for the task
        due = task_timeouts.next_due(task)
        if due is not None:
            out.append((str(task.id), task.task_spec.bpmn_id, due))
    return out


def event_waits(session: Session) -> list[dict[str, Any]]:
    """Every waiting message or signal catch: task id, element id, kind, name, whether it is a process start
    event, the data at the catch, the SpiffArena correlation property names and the correlations its workflow
    holds (what a message must carry to be caught there)."""
    out = []
    for task in _waiting_tasks(session):
        spec = task.task_spec
        for part in _parts(spec.event_definition):
            if isinstance(part, MessageEventDefinition):
                kind = "message"
            elif isinstance(part, SignalEventDefinition):
                kind = "signal"
            else:
                continue
            out.append({
                "task_id": str(task.id), "element_id": spec.bpmn_id, "name": spec.bpmn_name or spec.bpmn_id,
                "kind": kind, "event_name": str(part.name), "process_id": task.workflow.spec.name,
                "start": isinstance(spec, StartEvent) and task.workflow is session.workflow,
                "data": copy.deepcopy(dict(task.data)),
                "properties": [p.name for p in getattr(part, "correlation_properties", []) or []],
                "correlations": copy.deepcopy(dict(getattr(task.workflow, "correlations", {}) or {})),
            })
    return out
