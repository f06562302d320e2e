"""Process-wide fixes to SpiffWorkflow 3.2 traps, applied once on import of `bpmn_runner._spiff`."""

from __future__ import annotations

import sys
import time
from typing import Any

from SpiffWorkflow.bpmn.parser.TaskParser import TaskParser
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.specs.base import TaskSpec
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskIterator, TaskState

_applied = False


def _is_descendant_of(self: Task, parent: Task) -> bool:
    node = self.parent
    while node is not None:
        if node == parent:
            return True
        node = node.parent
    return False


def _find_ancestor(self: Task, spec_name: str) -> Task | None:
    node = self.parent
    while node is not None:
        if node.task_spec.name == spec_name:
            return node
        node = node.parent
    return None


def apply() -> None:
    """Lift the silent depth-1000 limit of task iterators and make ancestor walks iterative."""
    global _applied
    if _applied:
        return
    # Past depth 1000 SpiffWorkflow stops seeing READY tasks and reports the workflow completed.
    TaskIterator.__init__.__defaults__ = (None, sys.maxsize, True, None)
    BpmnTaskIterator.__init__.__defaults__ = (None, sys.maxsize, True, False, None)
    Task.is_descendant_of = _is_descendant_of
    Task.find_ancestor = _find_ancestor
    apply_parser_patches()
    _applied = True


def _handles_multiple_outgoing(self: Any) -> bool:
    """An activity with several outgoing flows splits in parallel, as in Camunda (an implicit split)."""
    for flow in self.process_parser.get_outgoing_sequence_flows(self.bpmn_id):
        if flow.xpath("./bpmn:conditionExpression", namespaces=self.nsmap):
            raise ValidationException(
                "conditional sequence flows leaving a task are not supported; put a gateway after the task",
                node=self.node, file_name=self.filename)
    return True


def _set_state(self: Task, value: int) -> None:
    """SpiffWorkflow's `_set_state` without its per-call log record, plus our state listener."""
    old = self._state
    if value != old:
        self.last_state_change = time.time()
        self._state = value
        listener = getattr(self.workflow.top_workflow, "_runner_listener", None)
        if listener is not None:
            listener(self, old, value)


def _predict(self: Any, my_task: Task, seen: Any = None, looked_ahead: int = 0,
             mask: int = TaskState.PREDICTED_MASK) -> None:
    """TaskSpec._predict without recursion: a long chain is predicted in one loop, not one stack frame per task."""
    stack = [(my_task, looked_ahead, True)]
    while stack:
        task, ahead, first = stack.pop()
        if not first and not task.has_state(mask):
            continue
        spec = task.task_spec
        if task.has_state(mask):
            spec._predict_hook(task)
        go_on = task.has_state(TaskState.DEFINITE_MASK) or ahead + 1 < spec.lookahead
        if go_on:
            for child in reversed(task.children):
                stack.append((child, ahead + 1, False))


def apply_parser_patches() -> None:
    TaskParser.handles_multiple_outgoing = _handles_multiple_outgoing
    Task._set_state = _set_state
    TaskSpec._predict = _predict
