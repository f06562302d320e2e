"""What a run did, recorded from SpiffWorkflow's state changes: history events, the path and the flows taken."""

from __future__ import annotations

from collections import Counter
from typing import Any, Callable

from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin
from SpiffWorkflow.util.task import TaskState

from ..errors import ExecutionError, StepLimitError
from ..models import HistoryEvent

LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED
MAX_CALL_DEPTH = 100
# Joins wait for their other branches and boundary events wait armed: neither is an activity the run entered
# until it fires (as in Camunda's history), and cancelling them when the branch moves on is not news.
QUIET_WHILE_WAITING = (UnstructuredJoin, BoundaryEvent)
_MISSING = object()


class HistoryRecorder:
    """Mixed into Session: `_on_state` is the listener the patched `Task._set_state` calls."""

    instance_id: str
    workflow: Any
    flows: dict[tuple[str, str], str]
    max_steps: int | None

    def _init_history(self) -> None:
        self.path: list[str] = []
        self.flows_taken: list[str] = []
        self.history: list[HistoryEvent] = []
        self.completed_counts: Counter[str] = Counter()
        self.steps = 0
        self.end_events: list[str] = []
        self.on_step: Callable[[str], None] | None = None
        self._entered_data: dict[Any, dict[str, Any]] = {}
        self._flow_recorded: set[Any] = set()

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
        if task.workflow.depth >= MAX_CALL_DEPTH and isinstance(task.task_spec, SubWorkflowTask):
            raise ExecutionError(f"subprocesses and call activities nest more than {MAX_CALL_DEPTH} deep; "
                                 f"does a process call itself?", instance_id=self.instance_id, element_id=element_id)
        self._event(task, element_id, "entered")
        self._entered_data[task.id] = dict(task.data)
        self._record_flow(task, element_id)

    def _record_flow(self, task: Any, element_id: str) -> None:
        """The sequence flow that brought this task, once per task."""
        if task.id in self._flow_recorded:
            return
        tasks = task.workflow.tasks
        parent = tasks.get(task._parent)
        while parent is not None and getattr(parent.task_spec, "bpmn_id", None) is None:
            parent = tasks.get(parent._parent)
        if parent is not None:
            flow = self.flows.get((parent.task_spec.bpmn_id, element_id))
            if flow is not None:
                self.flows_taken.append(flow)
                self._flow_recorded.add(task.id)

    def _completed(self, task: Any, element_id: str) -> None:
        self._flow_recorded.discard(task.id)
        before = self._entered_data.pop(task.id, None)
        if before is None:
            parent = task.parent
            if parent is not None:
                before = parent.data
        data = task.data
        if before is None:
            changes = dict(data)
        elif before == data:
            changes = {}
        else:
            missing = _MISSING
            changes = {k: v for k, v in data.items() if before.get(k, missing) is missing or before[k] != v}
        internal = task.internal_data
        matched = internal.get("matched_rules") if internal and isinstance(internal, dict) else None
        detail = f"matched rules: {', '.join(matched) if matched else 'none'}" if matched is not None else ""
        self._event(task, element_id, "completed", changes, detail)
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

    def _event(self, task: Any, element_id: str, event: str, changes: dict[str, Any] | None = None,
               detail: str = "") -> None:
        spec = task.task_spec
        # every event comes from a state change (the listener), which has just stamped the task
        self.history.append(HistoryEvent(element_id, event, task.last_state_change, type(spec).__name__,
                                         spec.bpmn_name or "", task.workflow.spec.name,
                                         {} if changes is None else changes, detail))
