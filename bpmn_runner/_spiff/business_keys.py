"""Business keys of running (and called) process instances, as Camunda 7 keeps them: the instance's own key, a
called instance's from `camunda:in businessKey`, an embedded sub-process its process instance's."""

from __future__ import annotations

from typing import Any


def business_key(workflow: Any) -> str | None:
    """The business key of the process instance this (sub)workflow belongs to."""
    wf = workflow
    for _ in range(1000):
        if "business_key" in vars(wf):  # the top workflow, or a called process's own instance
            return wf.business_key
        parent_id = getattr(wf, "parent_task_id", None)
        top = getattr(wf, "top_workflow", None)
        if parent_id is None or top is None or top is wf:
            return None
        parent = top.get_task_from_id(parent_id)
        if parent is None:
            return None
        wf = parent.workflow
    return None


def execution_info(task: Any, instance_id: str | None = None) -> dict[str, Any]:
    """What `execution.processBusinessKey`, `execution.processInstanceId` and `execution.currentActivityId` read."""
    spec = getattr(task, "task_spec", None)
    return {"businessKey": business_key(task.workflow), "instanceId": instance_id,
            "elementId": getattr(spec, "bpmn_id", None) or getattr(spec, "name", None)}

