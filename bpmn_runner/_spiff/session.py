"""One live SpiffWorkflow instance behind a small interface that speaks plain values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import SignalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.bpmn_spec_mixin import BpmnSpecMixin
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask as UserTaskMixin
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from ..errors import (BpmnRunnerError, ExecutionError, InvalidOperationError)
from ..forms import check_submission
from . import async_points, conditional, frontier
from .people import PeopleRecorder
from .build import BuiltSpecs, clean_message
from .compensation import CompensationRecorder
from .compensation import handler_task_ids as compensation_handler_ids
from .events import EventDelivery
from .failures import step_failure
from .history import HistoryRecorder
from .script_engine import RunnerScriptEngine
from .serializer import ended_state_to_json, missing_elements, state_from_dict, state_to_dict, state_to_json
from . import task_timeouts
from .timer_due import timer_due
from .service_calls import HandlerCaller, ServiceCalls
from .simulated_completion import release_stuck_joins, simulated_completion
from .specs import SERVICE_CLASSES

LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED
PREDICTED = TaskState.MAYBE | TaskState.LIKELY | TaskState.FUTURE


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
    assignment: dict[str, Any] = field(default_factory=dict)  # assignee, candidate groups, due date, ...


class Session(CompensationRecorder, HistoryRecorder, ServiceCalls, PeopleRecorder, EventDelivery):
    """Drives one BpmnWorkflow: run engine steps, answer what it waits for; records history (HistoryRecorder) and
    what compensation can undo (CompensationRecorder), calls handlers (ServiceCalls), and takes and throws events
    (EventDelivery)."""

    def __init__(self, built: BuiltSpecs, workflow: BpmnWorkflow, engine: RunnerScriptEngine, *,
                 instance_id: str, process_id: str, flows: dict[tuple[str, str], str],
                 call_handler: HandlerCaller, simulate: bool = False, max_steps: int | None = None,
                 commit_points: dict[str, str] | None = None) -> None:
        self.built = built
        self.workflow = workflow
        self.engine = engine
        self.instance_id = instance_id
        self.process_id = process_id
        self.flows = flows
        self.call_handler = call_handler
        self.simulate = simulate
        self.max_steps = max_steps
        self._init_history()
        self.notes: list[str] = []
        self.messages_sent: list[dict[str, Any]] = []
        self.messages_received: list[dict[str, Any]] = []
        engine.invoker = self
        engine._note = self.notes.append
        workflow._runner_listener = self._on_state
        async_points.set_points(workflow, commit_points)
        self._init_compensation()

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
        for task in frontier.tasks_in_state(workflow, TaskState.READY):
            if task.state == TaskState.READY:
                task.data.update(data)
        return session

    @classmethod
    def restore(cls, built: BuiltSpecs, process_id: str, state: dict[str, Any], engine: RunnerScriptEngine,
                **kwargs: Any) -> "Session":
        spec, subprocess_specs = built.spec(process_id)
        missing = missing_elements(state, spec, subprocess_specs)
        if missing:
            raise ExecutionError(
                f"the saved state does not fit this diagram: it has tasks at {', '.join(map(repr, missing))}, "
                f"which process {process_id!r} no longer defines; restore it with the diagram it was started with",
                instance_id=kwargs.get("instance_id"))
        try:
            workflow = state_from_dict(built.family, state, spec, subprocess_specs)
        except Exception as exc:
            raise ExecutionError(f"saved state could not be restored: {type(exc).__name__}: {exc}") from exc
        workflow.script_engine = engine
        return cls(built, workflow, engine, process_id=process_id, **kwargs)

    def state(self) -> dict[str, Any]:
        return state_to_dict(self.built.family, self.workflow)

    def state_json(self, ended: bool = False) -> str:
        return ended_state_to_json(self.workflow) if ended else state_to_json(self.built.family, self.workflow)

    def dispose(self) -> None:
        """Break this instance's reference cycles once nothing will use it again: each task points at its workflow
        and its parent, a workflow at this session's listener, the script engine at this session. Reference counting
        then frees it at once, instead of the cyclic garbage collector later (durable starts on PostgreSQL with two
        threads: about 14% more a second, bench/README.md). The session cannot be used afterwards."""
        top = self.workflow
        for workflow in (top, *top.subprocesses.values()):
            for task in workflow.tasks.values():
                task.__dict__.clear()
            workflow.__dict__.clear()
        self.engine.__dict__.clear()
        self.__dict__.clear()

    # ----- running ------------------------------------------------------------------------------------------

    def run_engine_steps(self) -> None:
        """Run every READY automatic task until none is left; errors become our ExecutionErrors. In a simulation,
        an element that fails is listed and treated as completed, so the walk carries on."""
        while True:
            try:
                return self._engine_steps()
            except ExecutionError as exc:
                if not self._carry_on_after(exc):
                    raise

    def _carry_on_after(self, error: ExecutionError) -> bool:
        simulator = getattr(self.engine, "simulator", None)
        if simulator is None:
            return False
        failed = self._all_tasks(TaskState.ERROR)
        cause = getattr(error.__cause__, "task", None)
        stuck = [cause] if cause is not None and cause not in failed and cause.has_state(TaskState.COMPLETED) else []
        if not failed and not stuck:
            return False
        for task in failed + stuck:
            element_id = task.task_spec.bpmn_id or task.task_spec.name
            simulator.record(element_id, f"failed in the simulation ({error.message}); carried on as if it "
                                         f"completed")
            if not simulated_completion(task, simulator):
                return False
        return True

    def release_stuck_joins(self) -> bool:
        """In a simulation: let joins that can no longer be completed go on."""
        simulator = getattr(self.engine, "simulator", None)
        return simulator is not None and release_stuck_joins([self.workflow, *self.workflow.subprocesses.values()],
                                                             simulator)

    def _engine_steps(self) -> None:
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
            raise step_failure(exc, instance_id=self.instance_id, fallback_element=failed[0] if failed else None) \
                from exc

    def fire_due_timers(self) -> None:
        try:
            self.workflow.refresh_timers()
            for task in self.timeout_tasks():
                task_timeouts.fire_due(task)
        except SpiffWorkflowException as exc:
            raise self._translate(exc) from exc

    def timeout_tasks(self) -> list[Any]:
        """Waiting user tasks with a timeout listener's timer running."""
        return [t for t in self._all_tasks(TaskState.READY) if t.internal_data.get("timeouts")]

    def _translate(self, exc: SpiffWorkflowException) -> ExecutionError:
        task = getattr(exc, "task", None)
        element = getattr(getattr(task, "task_spec", None), "bpmn_id", None)
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, BpmnRunnerError):
            return ExecutionError(cause.message, element_id=element or cause.element_id, instance_id=self.instance_id)
        return ExecutionError(clean_message(str(exc)), element_id=element, instance_id=self.instance_id)

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
            out.extend(t for t in frontier.tasks_in_state(wf, state) if t.state & state)
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
                                    extensions=dict(getattr(spec, "extensions", {}) or {}),
                                    assignment=dict(task.internal_data.get("user_task") or {})))
        for task in self._all_tasks(TaskState.STARTED):
            spec = task.task_spec
            hold = async_points.held(task)
            if hold is not None:  # a commit point (asyncBefore/asyncAfter): a continuation job goes on
                out.append(LiveTask(str(task.id), spec.bpmn_id, spec.bpmn_name or spec.bpmn_id, "async",
                                    detail=hold, process_id=task.workflow.spec.name))
            elif isinstance(spec, SERVICE_CLASSES):
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
        due = [timer_due(task) for task in list(self.workflow.event_manager.tasks.values())
               if isinstance(task.task_spec.event_definition, TimerEventDefinition)]
        due += [task_timeouts.next_due(task) for task in self.timeout_tasks()]
        known = [d for d in due if d is not None]
        return min(known) if known else None

    def _form(self, task: Any) -> list[dict[str, Any]]:
        form = getattr(task.task_spec, "form", None)
        fields: list[dict[str, Any]] = []
        for f in getattr(form, "fields", []) or []:
            fields.append({"id": f.id, "label": getattr(f, "label", f.id) or f.id, "type": getattr(f, "type", "string"),
                           "default": getattr(f, "default_value", None),
                           "options": [o.id for o in getattr(f, "options", [])],
                           "required": any(getattr(v, "name", "") == "required"
                                           for v in getattr(f, "validation", []) or []),
                           "constraints": [[getattr(v, "name", ""), getattr(v, "config", None)]
                                           for v in getattr(f, "validation", []) or []]})
        return fields

    def complete_user_task(self, task_id: str, data: dict[str, Any], user: str | None = None) -> None:
        """Complete a waiting user or manual task; `user` (who completed it) goes on its history event and in
        the instance's people ledger."""
        task = self._find_task(task_id)
        if task is None or not task.has_state(TaskState.READY) or not task.task_spec.manual:
            raise InvalidOperationError(f"task {task_id} is not waiting for a person (it may be done already)",
                                        instance_id=self.instance_id)
        data = check_submission(self._form(task), data, task.data, element_id=task.task_spec.bpmn_id,
                                instance_id=self.instance_id)
        task.data.update(data)
        mark = len(self.history)
        try:
            task.run()
            conditional.fire_now(self.workflow)
        except SpiffWorkflowException as exc:
            error = self._translate(exc)
            error.__cause__ = exc
            if not self._carry_on_after(error):
                raise error from exc
        if user:
            self._record_completing_user(task, user, mark)

    def continue_async(self, task_id: str) -> None:
        """Go on past a commit point (a continuation job, once the store committed the state held there)."""
        async_points.continue_task(self, self._find_task(task_id), task_id)

    def claim_user_task(self, task_id: str, user: str | None) -> None:
        """Set (or with None clear) the assignee of an open user task, as Tasklist's claim and unclaim do; an
        assignment task listener runs when a user is set."""
        from . import listeners
        task = self._find_task(task_id)
        if task is None or not task.has_state(TaskState.READY) or not isinstance(task.task_spec, UserTaskMixin):
            raise InvalidOperationError(f"task {task_id} is not an open user task (it may be done already)",
                                        instance_id=self.instance_id)
        assignment = dict(task.internal_data.get("user_task") or {})
        if user is None:
            assignment.pop("assignee", None)
        else:
            assignment["assignee"] = user
        task.internal_data["user_task"] = assignment
        if user is not None:
            listeners.fire(task.task_spec, task, "assignment", "task")

    def _find_task(self, task_id: str) -> Any:
        try:
            key = UUID(task_id)
        except (ValueError, TypeError, AttributeError):
            return None
        for wf in [self.workflow, *self.workflow.subprocesses.values()]:
            task = wf.tasks.get(key)
            if task is not None:
                return task
        return None

    # ----- data ---------------------------------------------------------------------------------------------

    def data(self) -> dict[str, Any]:
        if self.workflow.is_completed():
            last = self.workflow.last_task
            return dict(self.workflow.data or (last.data if last is not None else {}))
        merged: dict[str, Any] = {}
        handlers = compensation_handler_ids(self.workflow)
        live = [t for t in frontier.tasks_in_state(self.workflow, LIVE | TaskState.ERROR)
                if t.state & (LIVE | TaskState.ERROR) and str(t.id) not in handlers]
        for task in sorted(live, key=lambda t: t.last_state_change):
            merged.update(task.data)
        if not live and self.workflow.last_task is not None:
            merged.update(self.workflow.last_task.data)
        return merged
