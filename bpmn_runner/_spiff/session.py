"""One live SpiffWorkflow instance behind a small interface that speaks plain values."""

from __future__ import annotations

import copy
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import ErrorEventDefinition, SignalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.bpmn_spec_mixin import BpmnSpecMixin
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask as UserTaskMixin
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition as CamundaMessageEventDefinition
from SpiffWorkflow.spiff.specs.event_definitions import ErrorEventDefinition as SpiffErrorEventDefinition
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition as SpiffMessageEventDefinition
from SpiffWorkflow.spiff.specs.event_definitions import SignalEventDefinition as SpiffSignalEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from .. import expressions
from ..errors import (BpmnError, BpmnRunnerError, ExecutionError, ExpressionError, InvalidOperationError,
                      StepLimitError, UnboundTaskError, UnhandledBpmnError)
from ..models import Binding, HistoryEvent, ServiceCall
from . import frontier
from .build import BuiltSpecs
from .script_engine import RunnerScriptEngine
from .serializer import state_from_dict, state_to_dict
from .specs import SERVICE_CLASSES

LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED
PREDICTED = TaskState.MAYBE | TaskState.LIKELY | TaskState.FUTURE
MAX_CALL_DEPTH = 100
# Joins wait for their other branches and boundary events wait armed: neither is an activity the run entered
# until it fires (as in Camunda's history), and cancelling them when the branch moves on is not news.
QUIET_WHILE_WAITING = (UnstructuredJoin, BoundaryEvent)
PENDING = object()  # returned by a handler caller that queued the call as a job


@dataclass
class LiveTask:
    """A task an instance waits at, in plain values."""

    task_id: str
    element_id: str
    name: str
    kind: str
    detail: str = ""
    process_id: str = ""
    form: list[dict[str, Any]] = field(default_factory=list)
    extensions: dict[str, Any] = field(default_factory=dict)


EVENT_CLASSES: dict[str, dict[type, type]] = {
    "camunda": {MessageEventDefinition: CamundaMessageEventDefinition},
    "spiff": {MessageEventDefinition: SpiffMessageEventDefinition, SignalEventDefinition: SpiffSignalEventDefinition,
              ErrorEventDefinition: SpiffErrorEventDefinition},
}

HandlerCaller = Callable[[Binding, ServiceCall, str], Any]


class Session:
    """Drives one BpmnWorkflow: run engine steps, record history, answer what it waits for."""

    def __init__(self, built: BuiltSpecs, workflow: BpmnWorkflow, engine: RunnerScriptEngine, *,
                 instance_id: str, process_id: str, flows: dict[tuple[str, str], str],
                 call_handler: HandlerCaller, simulate: bool = False, max_steps: int | None = None) -> None:
        self.built = built
        self.workflow = workflow
        self.engine = engine
        self.instance_id = instance_id
        self.process_id = process_id
        self.flows = flows
        self.call_handler = call_handler
        self.simulate = simulate
        self.max_steps = max_steps
        self.path: list[str] = []
        self.flows_taken: list[str] = []
        self.history: list[HistoryEvent] = []
        self.completed_counts: Counter[str] = Counter()
        self.steps = 0
        self.end_events: list[str] = []
        self.notes: list[str] = []
        self.messages_sent: list[dict[str, Any]] = []
        self.messages_received: list[dict[str, Any]] = []
        self._entered_data: dict[Any, dict[str, Any]] = {}
        self._flow_recorded: set[Any] = set()
        self.on_step: Callable[[str], None] | None = None
        engine.invoker = self
        engine._note = self.notes.append
        workflow._runner_listener = self._on_state

    # ----- construction -------------------------------------------------------------------------------------

    @classmethod
    def start(cls, built: BuiltSpecs, process_id: str, data: dict[str, Any], engine: RunnerScriptEngine,
              **kwargs: Any) -> "Session":
        spec, subprocess_specs = built.spec(process_id)
        try:  # building the workflow already runs its start task, which can fail on a broken diagram
            workflow = frontier.workflow_class()(spec, subprocess_specs, script_engine=engine)  # flat cost: issue 3
        except BpmnRunnerError:
            raise
        except Exception as exc:
            raise ExecutionError(f"process {process_id!r} cannot start: {type(exc).__name__}: "
                                 f"{' '.join(str(exc).split())}", instance_id=kwargs.get("instance_id")) from exc
        session = cls(built, workflow, engine, process_id=process_id, **kwargs)
        workflow.task_tree.data.update(data)
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(data)
        return session

    @classmethod
    def restore(cls, built: BuiltSpecs, process_id: str, state: dict[str, Any], engine: RunnerScriptEngine,
                **kwargs: Any) -> "Session":
        spec, subprocess_specs = built.spec(process_id)
        try:
            workflow = state_from_dict(built.family, state, spec, subprocess_specs)
        except Exception as exc:
            raise ExecutionError(f"saved state could not be restored: {type(exc).__name__}: {exc}") from exc
        workflow.script_engine = engine
        return cls(built, workflow, engine, process_id=process_id, **kwargs)

    def state(self) -> dict[str, Any]:
        return state_to_dict(self.built.family, self.workflow)

    # ----- running ------------------------------------------------------------------------------------------

    def run_engine_steps(self) -> None:
        """Run every READY automatic task until none is left; errors become our ExecutionErrors."""
        try:
            self.workflow.do_engine_steps()
        except BpmnRunnerError:
            raise
        except SpiffWorkflowException as exc:
            raise self._translate(exc) from exc
        except RecursionError as exc:
            raise ExecutionError("the process nests too deeply to run", instance_id=self.instance_id) from exc
        except Exception as exc:  # SpiffWorkflow lets some data errors escape unwrapped
            failed = self.failed_tasks()
            raise ExecutionError(f"{type(exc).__name__}: {exc}", instance_id=self.instance_id,
                                 element_id=failed[0] if failed else None) from exc

    def fire_due_timers(self) -> None:
        try:
            self.workflow.refresh_timers()
        except SpiffWorkflowException as exc:
            raise self._translate(exc) from exc

    def _translate(self, exc: SpiffWorkflowException) -> ExecutionError:
        task = getattr(exc, "task", None)
        element = getattr(getattr(task, "task_spec", None), "bpmn_id", None)
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, BpmnRunnerError):
            return ExecutionError(cause.message, element_id=element or cause.element_id, instance_id=self.instance_id)
        text = str(exc).strip().rstrip(". ")
        return ExecutionError(text, element_id=element, instance_id=self.instance_id)

    def is_completed(self) -> bool:
        """Completed means the workflow finished and no task was left unfinished (so not the depth trap)."""
        if not self.workflow.is_completed():
            return False
        for wf in [self.workflow, *self.workflow.subprocesses.values()]:
            for task in wf.tasks.values():
                if task.state & (LIVE | PREDICTED) and isinstance(task.task_spec, BpmnSpecMixin):
                    return False
        return True

    def has_ready_work(self) -> bool:
        return any(not t.task_spec.manual for t in self._all_tasks(TaskState.READY))

    def failed_tasks(self) -> list[str]:
        return [t.task_spec.bpmn_id for t in self._all_tasks(TaskState.ERROR) if t.task_spec.bpmn_id]

    def _all_tasks(self, state: int) -> list[Any]:
        out = []
        for wf in [self.workflow, *self.workflow.subprocesses.values()]:
            out.extend(t for t in wf.tasks.values() if t.state & state)
        return out

    # ----- what it waits for --------------------------------------------------------------------------------

    def waiting(self) -> list[LiveTask]:
        out: list[LiveTask] = []
        for task in self._all_tasks(TaskState.READY):
            spec = task.task_spec
            if spec.manual and isinstance(spec, BpmnSpecMixin):
                out.append(LiveTask(str(task.id), spec.bpmn_id, spec.bpmn_name or spec.bpmn_id,
                                    "user" if isinstance(spec, UserTaskMixin) else "manual",
                                    process_id=task.workflow.spec.name, form=self._form(task),
                                    extensions=dict(getattr(spec, "extensions", {}) or {})))
        for task in self._all_tasks(TaskState.STARTED):
            spec = task.task_spec
            if isinstance(spec, SERVICE_CLASSES):
                out.append(LiveTask(str(task.id), spec.bpmn_id, spec.bpmn_name or spec.bpmn_id, "service",
                                    detail=(spec.binding or {}).get("name", ""), process_id=task.workflow.spec.name))
        for task in list(self.workflow.event_manager.tasks.values()):
            spec = task.task_spec
            if not isinstance(spec, BpmnSpecMixin) or not spec.bpmn_id:
                continue
            kind, detail = self._event_kind(task)
            out.append(LiveTask(str(task.id), spec.bpmn_id, spec.bpmn_name or spec.bpmn_id, kind, detail=detail,
                                process_id=task.workflow.spec.name))
        return out

    def _event_kind(self, task: Any) -> tuple[str, str]:
        definition = task.task_spec.event_definition
        if isinstance(definition, TimerEventDefinition):
            details = definition.details(task)
            due = details.value
            if isinstance(due, dict):
                due = due.get("next")
            return "timer", str(due or "")
        if isinstance(definition, MessageEventDefinition):
            return "message", str(definition.name)
        if isinstance(definition, SignalEventDefinition):
            return "signal", str(definition.name)
        return "event", type(definition).__name__.replace("EventDefinition", "").lower()

    def next_timer_due(self) -> datetime | None:
        due: list[datetime] = []
        for task in list(self.workflow.event_manager.tasks.values()):
            definition = task.task_spec.event_definition
            if isinstance(definition, TimerEventDefinition):
                value = definition.details(task).value
                if isinstance(value, dict):
                    value = value.get("next")
                if value:
                    try:
                        due.append(TimerEventDefinition.get_datetime(str(value)))
                    except ValueError:
                        continue
        return min(due) if due else None

    def _form(self, task: Any) -> list[dict[str, Any]]:
        form = getattr(task.task_spec, "form", None)
        fields: list[dict[str, Any]] = []
        for f in getattr(form, "fields", []) or []:
            fields.append({"id": f.id, "label": getattr(f, "label", f.id) or f.id, "type": getattr(f, "type", "string"),
                           "default": getattr(f, "default_value", None),
                           "options": [o.id for o in getattr(f, "options", [])],
                           "required": any(getattr(v, "name", "") == "required"
                                           for v in getattr(f, "validation", []) or [])})
        return fields

    def complete_user_task(self, task_id: str, data: dict[str, Any]) -> None:
        task = self._find_task(task_id)
        if task is None or not task.has_state(TaskState.READY) or not task.task_spec.manual:
            raise InvalidOperationError(f"task {task_id} is not waiting for a person (it may be done already)",
                                        instance_id=self.instance_id)
        task.data.update(data)
        try:
            task.run()
        except SpiffWorkflowException as exc:
            raise self._translate(exc) from exc

    def _find_task(self, task_id: str) -> Any:
        for wf in [self.workflow, *self.workflow.subprocesses.values()]:
            for task in wf.tasks.values():
                if str(task.id) == task_id:
                    return task
        return None

    def fire_timer_now(self, element_id: str | None = None) -> int:
        """Fire waiting timers at once (simulate mode, tests)."""
        fired = 0
        for task in list(self.workflow.event_manager.tasks.values()):
            spec = task.task_spec
            if isinstance(spec.event_definition, TimerEventDefinition) and (element_id in (None, spec.bpmn_id)):
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
        caught = self.workflow.event_manager.catch(event, internal=False)
        if caught:
            self.messages_received.append({"name": name, "at": time.time(), "payload": payload})
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

    # ----- data ---------------------------------------------------------------------------------------------

    def data(self) -> dict[str, Any]:
        if self.workflow.is_completed():
            last = self.workflow.last_task
            return dict(self.workflow.data or (last.data if last is not None else {}))
        merged: dict[str, Any] = {}
        live = [t for t in self.workflow.tasks.values() if t.state & (LIVE | TaskState.ERROR)]
        for task in sorted(live, key=lambda t: t.last_state_change):
            merged.update(task.data)
        if not live and self.workflow.last_task is not None:
            merged.update(self.workflow.last_task.data)
        return merged

    # ----- the state listener: history, path, flows ---------------------------------------------------------

    def _on_state(self, task: Any, old: int, new: int) -> None:
        spec = task.task_spec
        element_id = getattr(spec, "bpmn_id", None)
        if element_id is None:
            return
        if new & LIVE and not old & LIVE:
            if new == TaskState.WAITING and isinstance(spec, QUIET_WHILE_WAITING):
                self._record_flow(task, element_id)  # a branch arrived at a join; a boundary event is armed
                return
            self._entered(task, element_id)
        elif new == TaskState.READY and old == TaskState.WAITING and isinstance(spec, QUIET_WHILE_WAITING):
            self._entered(task, element_id)  # the join fires, the boundary event caught its event
        elif new == TaskState.COMPLETED:
            self._completed(task, element_id)
        elif new == TaskState.ERROR:
            self._entered_data.pop(task.id, None)
            self._event(task, element_id, "failed")
        elif new == TaskState.CANCELLED and old & LIVE:
            self._entered_data.pop(task.id, None)
            self._flow_recorded.discard(task.id)
            if not (old == TaskState.WAITING and isinstance(spec, QUIET_WHILE_WAITING)):
                self._event(task, element_id, "cancelled")

    def _entered(self, task: Any, element_id: str) -> None:
        if isinstance(task.task_spec, SubWorkflowTask) and task.workflow.depth >= MAX_CALL_DEPTH:
            raise ExecutionError(f"subprocesses and call activities nest more than {MAX_CALL_DEPTH} deep; "
                                 f"does a process call itself?", instance_id=self.instance_id, element_id=element_id)
        self._event(task, element_id, "entered")
        self._entered_data[task.id] = dict(task.data)
        self._record_flow(task, element_id)

    def _record_flow(self, task: Any, element_id: str) -> None:
        """The sequence flow that brought this task, once per task."""
        if task.id in self._flow_recorded:
            return
        parent = task.parent
        while parent is not None and getattr(parent.task_spec, "bpmn_id", None) is None:
            parent = parent.parent
        if parent is not None:
            flow = self.flows.get((parent.task_spec.bpmn_id, element_id))
            if flow is not None:
                self.flows_taken.append(flow)
                self._flow_recorded.add(task.id)

    def _completed(self, task: Any, element_id: str) -> None:
        self._flow_recorded.discard(task.id)
        before = self._entered_data.pop(task.id, None)
        if before is None and task.parent is not None:
            before = task.parent.data
        changes = {k: v for k, v in task.data.items() if before is None or k not in before or before[k] != v}
        self._event(task, element_id, "completed", changes)
        self.path.append(element_id)
        self.completed_counts[element_id] += 1
        self.steps += 1
        if self.on_step is not None:
            self.on_step(element_id)
        if isinstance(task.task_spec, EndEvent) and task.workflow is self.workflow:
            self.end_events.append(element_id)
        if self.max_steps is not None and self.steps > self.max_steps:
            repeats = ", ".join(f"{e} ({n}x)" for e, n in self.completed_counts.most_common(3))
            raise StepLimitError(f"the run took more than {self.max_steps} steps; the most repeated elements are "
                                 f"{repeats}; raise --max-steps or check for an endless loop",
                                 instance_id=self.instance_id, element_id=element_id)

    def _event(self, task: Any, element_id: str, event: str, changes: dict[str, Any] | None = None) -> None:
        spec = task.task_spec
        self.history.append(HistoryEvent(element_id=element_id, event=event, at=time.time(),
                                         element_type=type(spec).__name__, name=spec.bpmn_name or "",
                                         process_id=task.workflow.spec.name,
                                         data_changes=dict(changes or {})))

    # ----- service tasks (called from the spec's _run_hook) -------------------------------------------------

    def run_service_task(self, spec: Any, task: Any) -> bool | None:
        raw = spec.binding or {}
        element_id = spec.bpmn_id
        if not raw.get("name"):
            if self.simulate:
                self.notes.append(f"simulate: {element_id}: no handler binding; returning nothing")
                return True
            raise UnboundTaskError(f"service task {element_id!r} has no handler binding (add a camunda:topic, "
                                   f"zeebe:taskDefinition type or spiffworkflow:serviceTaskOperator)",
                                   element_id=element_id, instance_id=self.instance_id)
        binding = Binding(raw["name"], raw.get("dialect", "bpmn"), raw.get("kind", "topic"), raw.get("retries"),
                          raw.get("retry_cycle"), dict(raw.get("headers") or {}), raw.get("result_variable"))
        params = self._params(spec, task)
        call = ServiceCall(params=params, data=_copy(task.data), headers=dict(binding.headers),
                           instance_id=self.instance_id, element_id=element_id,
                           idempotency_key=f"{self.instance_id}:{element_id}:{task.id}", topic=binding.name,
                           element_name=spec.bpmn_name or "", process_id=task.workflow.spec.name)
        try:
            result = self.call_handler(binding, call, str(task.id))
        except BpmnError as error:
            return self.throw_bpmn_error(task, error)
        if result is PENDING:
            return None
        self.apply_result(spec, task, binding, result)
        return True

    def _params(self, spec: Any, task: Any) -> dict[str, Any]:
        params: dict[str, Any] = {}
        trusted = self.engine.trusted
        for target, source in spec.inputs_mapping:
            params[target] = self._mapping_value(source, task.data, spec, trusted)
        for name, expression in spec.spiff_params.items():
            try:
                params[name] = expressions.evaluate(expression, task.data, trusted=trusted)
            except ExpressionError as exc:
                raise ExpressionError(f"parameter {name!r}: {exc.message}", element_id=spec.bpmn_id,
                                      instance_id=self.instance_id) from None
        return params

    def _mapping_value(self, source: str, data: dict[str, Any], spec: Any, trusted: bool) -> Any:
        try:
            return expressions.evaluate_mapping(source, data, trusted=trusted)
        except expressions.MissingVariableError as exc:
            if not self.simulate:
                raise ExpressionError(exc.message, element_id=spec.bpmn_id, instance_id=self.instance_id) from None
            self.notes.append(f"simulate: {spec.bpmn_id}: {exc.message}; using null")
            return None
        except ExpressionError as exc:
            raise ExpressionError(f"mapping {source!r}: {exc.message}", element_id=spec.bpmn_id,
                                  instance_id=self.instance_id) from None

    def apply_result(self, spec: Any, task: Any, binding: Binding, result: Any) -> None:
        """Store a handler's result by its dialect: SpiffArena under resultVariable, Camunda merged."""
        if binding.dialect == "spiff":
            name = binding.result_variable or f"spiff__{spec.bpmn_id.replace('-', '_')}_result"
            task.data[name] = result
            return
        if result is None:
            result = {}
        if not isinstance(result, dict):
            if binding.result_variable:
                task.data[binding.result_variable] = result
                return
            raise ExecutionError(f"handler {binding.name!r} returned {type(result).__name__}; a Camunda-style "
                                 f"handler returns a dict of variables (or None)",
                                 element_id=spec.bpmn_id, instance_id=self.instance_id)
        if spec.outputs_mapping:
            scope = {**task.data, **result}
            for target, source in spec.outputs_mapping:
                task.data[target] = self._mapping_value(source, scope, spec, self.engine.trusted)
        else:
            task.data.update(result)

    def started_service_task(self, task_id: str) -> Any:
        task = self._find_task(task_id)
        if task is None or not task.has_state(TaskState.STARTED) or not isinstance(task.task_spec, SERVICE_CLASSES):
            raise InvalidOperationError(f"task {task_id} is not a service task waiting for its handler",
                                        instance_id=self.instance_id)
        return task

    def complete_service_task(self, task_id: str, result: Any) -> None:
        """A worker's handler returned: store the result by the dialect's rules and move on."""
        task = self.started_service_task(task_id)
        spec = task.task_spec
        raw = spec.binding or {}
        binding = Binding(raw.get("name", ""), raw.get("dialect", "bpmn"), raw.get("kind", "topic"),
                          result_variable=raw.get("result_variable"))
        self.apply_result(spec, task, binding, result)
        try:
            task.complete()
        except SpiffWorkflowException as exc:
            raise self._translate(exc) from exc

    def raise_in_service_task(self, task_id: str, error: BpmnError) -> None:
        """A worker's handler raised a BpmnError: take the matching error path, or fail if none catches it."""
        task = self.started_service_task(task_id)
        self.throw_bpmn_error(task, error)

    def throw_bpmn_error(self, task: Any, error: BpmnError) -> None:
        event = BpmnEvent(self._definition_class(ErrorEventDefinition)(error.code, code=error.code),
                          payload=dict(error.data) or {"errorMessage": error.message}, target=task.workflow)
        if self._catch_upwards(event):
            self.notes.append(f"{task.task_spec.bpmn_id}: BPMN error {error.code} caught")
            return None
        raise UnhandledBpmnError(f"BPMN error {error.code!r} ({error.message or 'no message'}) was raised by the "
                                 f"handler and no error boundary event or event subprocess catches it",
                                 element_id=task.task_spec.bpmn_id, instance_id=self.instance_id)


    def _catch_upwards(self, event: BpmnEvent) -> int:
        """Deliver an event to the nearest enclosing workflow that catches it (boundary events first, then event
        subprocesses); SpiffWorkflow's own catch loses the count when it moves up a level."""
        manager = self.workflow.event_manager
        while event.target is not None:
            if any(t.workflow == event.target and t.task_spec.event_definition.catches(t, event)
                   for t in manager.tasks.values()):
                break
            event.target = event.target.parent_workflow
        started_before = len(self.workflow.subprocesses)
        count = manager.catch(event, internal=False)
        # With no target left, SpiffWorkflow starts a catching event subprocess but counts no task.
        return count + max(0, len(self.workflow.subprocesses) - started_before)


def _copy(data: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(data)

