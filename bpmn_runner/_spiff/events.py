"""Events between a live instance and the outside: messages and signals delivered to it, timers fired at once, and
the events it throws that nothing inside caught. A mixin of Session."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import ErrorEventDefinition, SignalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition, TimerEventDefinition
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition as CamundaMessageEventDefinition
from SpiffWorkflow.spiff.specs.event_definitions import ErrorEventDefinition as SpiffErrorEventDefinition
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition as SpiffMessageEventDefinition
from SpiffWorkflow.spiff.specs.event_definitions import SignalEventDefinition as SpiffSignalEventDefinition

from ..errors import ExecutionError
from . import clock
from .build import BuiltSpecs

EVENT_CLASSES: dict[str, dict[type, type]] = {
    "camunda": {MessageEventDefinition: CamundaMessageEventDefinition},
    "spiff": {MessageEventDefinition: SpiffMessageEventDefinition, SignalEventDefinition: SpiffSignalEventDefinition,
              ErrorEventDefinition: SpiffErrorEventDefinition},
}


class EventDelivery:
    """Mixed into Session: what comes in from outside as an event, and what goes out."""

    workflow: Any
    built: BuiltSpecs
    messages_received: list[dict[str, Any]]

    def fire_timer_now(self, element_id: str | None = None) -> int:
        """Fire waiting timers at once (simulate mode, tests)."""
        fired = 0
        for task in list(self.workflow.event_manager.tasks.values()):
            spec = task.task_spec
            if isinstance(spec.event_definition, TimerEventDefinition) and (element_id in (None, spec.bpmn_id)):
                if isinstance(spec.event_definition, CycleTimerEventDefinition):
                    _cycle_due_now(spec.event_definition, task)  # its next firing is now; it keeps its cycle
                else:
                    spec.event_definition.catch(task)  # marks it fired
                spec._update(task)
                fired += 1
        return fired

    def _definition_class(self, kind: type, name: str | None = None) -> type:
        """The event definition class the catching side uses (Camunda and SpiffArena subclass the BPMN ones, and
        events match only within one class): a waiting catch's own class, else the family's."""
        for task in list(self.workflow.event_manager.tasks.values()):
            definition = task.task_spec.event_definition
            for candidate in [definition, *getattr(definition, "event_definitions", [])]:
                if isinstance(candidate, kind) and (name is None or candidate.name == name):
                    return type(candidate)
        return EVENT_CLASSES[self.built.family].get(kind, kind)

    def send_message(self, name: str, payload: dict[str, Any], correlations: dict[str, Any] | None = None) -> bool:
        event = BpmnEvent(self._definition_class(MessageEventDefinition, name)(name), payload=payload,
                          correlations=correlations or {})
        try:
            caught = self.workflow.event_manager.catch(event, internal=False)
        except ExecutionError as exc:
            where = sorted({t.task_spec.bpmn_id for t in self.workflow.event_manager.tasks.values()
                            if getattr(t.task_spec.event_definition, "name", None) == name})
            exc.args = (f"message {name!r} could not be caught at {', '.join(where) or 'its catch'}: {exc}",)
            if hasattr(exc, "message"):
                exc.message = exc.args[0]
            raise
        if caught:
            self.messages_received.append({"name": name, "at": clock.timestamp(), "payload": payload})
        return bool(caught)

    def send_signal(self, name: str, payload: dict[str, Any] | None = None) -> bool:
        event = BpmnEvent(self._definition_class(SignalEventDefinition, name)(name), payload=payload or {})
        caught = self.workflow.event_manager.catch(event, internal=False)
        return bool(caught)

    def outgoing_events(self) -> list[dict[str, Any]]:
        """Messages and signals thrown that nothing inside the instance caught."""
        out = []
        for event in self.workflow.get_events():
            definition = event.event_definition
            kind = "message" if isinstance(definition, MessageEventDefinition) else \
                "signal" if isinstance(definition, SignalEventDefinition) else type(definition).__name__
            out.append({"kind": kind, "name": getattr(definition, "name", ""), "payload": event.payload,
                        "correlations": getattr(event, "correlations", {})})
        return out


def _cycle_due_now(definition: Any, task: Any) -> None:
    """Move a cycle timer's next firing to a moment ago, so that its next update fires it."""
    if task._get_internal_data("event_value") is None:
        definition.cycle_complete(task)  # reads the cycle into the task's internal data
    value = task._get_internal_data("event_value")
    if isinstance(value, dict) and value.get("cycles") != 0:
        value["next"] = (clock.now() - timedelta(seconds=1)).isoformat()
        task._set_internal_data(event_value=value)
