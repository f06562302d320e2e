"""Task specs that trigger compensation: compensation throw events (intermediate and end) and cancel end events."""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.serializer.default.task_spec import EventConverter
from SpiffWorkflow.bpmn.specs.defaults import EndEvent, IntermediateThrowEvent
from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition
from SpiffWorkflow.util.task import TaskState

LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED
DONE = "runner_compensation_done"  # internal data flag: the compensation this task started has finished


class CompensationThrowMixin:
    """Starts compensation when run; stays STARTED until every handler it waits for has finished."""

    activity_ref: str | None
    wait_for_completion: bool
    parallel: bool

    def _init_compensation(self, activity_ref: str | None, wait_for_completion: bool, parallel: bool) -> None:
        self.activity_ref = activity_ref or None
        self.wait_for_completion = bool(wait_for_completion)
        self.parallel = bool(parallel)

    def _run_hook(self, my_task: Any) -> bool | None:
        from .compensation import ledger_of  # the ledger imports these specs
        if my_task.internal_data.pop(DONE, False):
            return True
        return ledger_of(my_task).start(my_task, self.activity_ref, wait=self.wait_for_completion,
                                        parallel=self.parallel)


class IntermediateCompensationThrowEvent(CompensationThrowMixin, IntermediateThrowEvent):
    def __init__(self, wf_spec: Any, bpmn_id: str, activity_ref: str | None = None,
                 wait_for_completion: bool = True, parallel: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("event_definition", NoneEventDefinition())
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self._init_compensation(activity_ref, wait_for_completion, parallel)


class CompensationEndEvent(CompensationThrowMixin, EndEvent):
    def __init__(self, wf_spec: Any, bpmn_id: str, activity_ref: str | None = None,
                 wait_for_completion: bool = True, parallel: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("event_definition", NoneEventDefinition())
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self._init_compensation(activity_ref, wait_for_completion, parallel)


class CancelEndEvent(EndEvent):
    """A cancel end event in a transaction: compensate the transaction's completed activities (last completed
    first, one after the other), then throw the cancel event to the transaction's cancel boundary event."""

    activity_ref = None
    wait_for_completion = True
    parallel = False

    def _run_hook(self, my_task: Any) -> bool | None:
        from .compensation import ledger_of
        if not my_task.internal_data.pop(DONE, False):
            interrupt_other_branches(my_task)
            if ledger_of(my_task).start(my_task, None, wait=True, parallel=False) is None:
                return None
        self.event_definition.throw(my_task)
        return True


def interrupt_other_branches(my_task: Any) -> None:
    """Camunda 7: a cancelled transaction "first interrupts all active executions" in it, then compensates."""
    for task in list(my_task.workflow.tasks.values()):
        if task is my_task or not task.state & LIVE or not getattr(task.task_spec, "bpmn_id", None):
            continue
        if my_task.is_descendant_of(task) or task.is_descendant_of(my_task):
            continue
        task.cancel()


COMPENSATION_SPECS = (IntermediateCompensationThrowEvent, CompensationEndEvent, CancelEndEvent)


class CompensationEventConverter(EventConverter):
    """Serializes the compensation specs with their activity reference and mode."""

    def to_dict(self, spec: Any) -> dict[str, Any]:
        dct = super().to_dict(spec)
        if not isinstance(spec, CancelEndEvent):
            dct.update(activity_ref=spec.activity_ref, wait_for_completion=spec.wait_for_completion,
                       parallel=spec.parallel)
        return dct
