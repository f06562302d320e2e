"""Commit points inside a run (Camunda 7's asyncBefore/asyncAfter): a marked task stops STARTED before it runs, or
after it ran but before it completes, until the store has committed and a worker's continuation job releases it.

Only a durable instance committing at wait states sets the marks (`set_points`); everywhere else a run is unchanged.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.specs.base import TaskSpec
from SpiffWorkflow.util.task import TaskState

from ..errors import BpmnRunnerError, InvalidOperationError

HELD = "runner_async"      # task.internal_data: "before" / "after" while held, "ran" once released before
_original_run = TaskSpec._run
_applied = False


def set_points(workflow: Any, points: dict[str, str] | None) -> None:
    """Element id -> "before", "after", "both" or "external" (only before/after/both hold here)."""
    workflow._runner_async = points or None


def _point(spec: Any, task: Any) -> str | None:
    points = getattr(task.workflow.top_workflow, "_runner_async", None)
    if not points:
        return None
    return points.get(getattr(spec, "bpmn_id", None) or "")


def _run(self: Any, my_task: Any) -> Any:
    point = _point(self, my_task)
    if point is None:
        return _original_run(self, my_task)
    from .specs import SERVICE_CLASSES  # a service task's asyncBefore makes it a job instead (engine.runs_inline)
    if point in ("before", "both") and not my_task.internal_data.get(HELD) and not self.manual \
            and not isinstance(self, SERVICE_CLASSES):
        my_task.internal_data[HELD] = "before"
        return None  # STARTED: held
    result = _original_run(self, my_task)
    if result is True and point in ("after", "both"):
        my_task.internal_data[HELD] = "after"
        return None
    return result


def hold_after(task: Any) -> bool:
    """A task about to complete outside `_run` (a worker's service job): hold it if it is marked asyncAfter."""
    if _point(task.task_spec, task) in ("after", "both") and task.internal_data.get(HELD) != "done":
        task.internal_data[HELD] = "after"
        return True
    return False


def held(task: Any) -> str | None:
    value = task.internal_data.get(HELD)
    return value if value in ("before", "after") else None


def release(task: Any) -> None:
    """Go on past the commit point: run the task held before it, or complete the one held after it."""
    value = held(task)
    if value == "before":
        task.internal_data[HELD] = "ran"
        task.run()
    elif value == "after":
        task.internal_data[HELD] = "done"
        task.complete()


def continue_task(session: Any, task: Any, task_id: str) -> None:
    """Session.continue_async: release `task` (None: not found), errors as the session's."""
    if task is None or not task.has_state(TaskState.STARTED) or held(task) is None:
        raise InvalidOperationError(f"task {task_id} is not held at a commit point (it may have gone on already)",
                                    instance_id=session.instance_id)
    try:
        release(task)
    except BpmnRunnerError:
        raise
    except SpiffWorkflowException as exc:
        raise session._translate(exc) from exc


def apply() -> None:
    global _applied
    if not _applied:
        TaskSpec._run = _run
        _applied = True
