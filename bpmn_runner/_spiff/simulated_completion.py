"""In a simulation, an element that failed is completed anyway: outputs it never set become null first."""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.specs.control import _EndJoin
from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin
from SpiffWorkflow.util.task import TaskState

from ..simulation import Simulator


def fill_missing_outputs(task: Any, simulator: Simulator) -> None:
    """Data outputs and data objects an element should have set, set to null (and listed)."""
    spec = task.task_spec
    element_id = getattr(spec, "bpmn_id", None) or spec.name
    io = getattr(spec, "io_specification", None)
    for var in (io.data_outputs if io is not None else []):
        if var.bpmn_id not in task.data:
            task.data[var.bpmn_id] = None
            simulator.record(element_id, f"data output {var.bpmn_id!r} was never set; assumed null")
    for obj in getattr(spec, "data_output_associations", []) or []:
        if obj.bpmn_id not in task.data:
            task.data[obj.bpmn_id] = None
            simulator.record(element_id, f"data object {obj.bpmn_id!r} was never set; assumed null")


def simulated_completion(task: Any, simulator: Simulator) -> bool:
    """Complete a failed task as if it had run; False when even that is impossible."""
    fill_missing_outputs(task, simulator)
    try:
        if task.has_state(TaskState.COMPLETED):
            task.task_spec._on_complete(task)  # it failed after being marked complete: finish the completion
        else:
            task.complete()
        return True
    except Exception:  # its completion hooks fail too: complete it without them
        pass
    try:
        task._set_state(TaskState.COMPLETED)
        if not task.children:
            task._sync_children(task.task_spec.outputs, TaskState.FUTURE)
        for child in task.children:
            if not child.has_state(TaskState.FINISHED_MASK):
                child.task_spec._update(child)
        task.workflow._task_completed_notify(task)
        return True
    except Exception:
        return False


def release_stuck_joins(workflows: list[Any], simulator: Simulator) -> bool:
    """Joins that wait for branches which can no longer arrive go on (listed); False when there are none."""
    released = False
    for workflow in workflows:
        for task in list(workflow.tasks.values()):
            spec = task.task_spec
            if task.state == TaskState.WAITING and isinstance(spec, UnstructuredJoin) and \
                    not isinstance(spec, _EndJoin) and getattr(spec, "bpmn_id", None):
                simulator.record(spec.bpmn_id, "the join waited for branches that can no longer arrive; went on")
                task._set_state(TaskState.READY)
                released = True
    return released
