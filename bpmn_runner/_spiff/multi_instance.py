"""Camunda's multi-instance variables: loopCounter and nrOf* inside each instance and in the completion condition;
the element variable and the counters stay local to their instance, other variables reach the process."""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask, ParallelMultiInstanceTask
from SpiffWorkflow.util.task import TaskState

COUNTERS = ("loopCounter", "nrOfInstances", "nrOfActiveInstances", "nrOfCompletedInstances")

_CREATE_CHILD = MultiInstanceTask.create_child
_MERGE_CHILD = MultiInstanceTask.merge_child


def _instances(spec: Any, my_task: Any) -> list[Any]:
    return [c for c in my_task.children if c.task_spec.name == spec.task_spec]


def _total(spec: Any, my_task: Any) -> int:
    if spec.data_input is not None and spec.data_input.exists(my_task):
        try:
            return len(spec.data_input.get(my_task))
        except TypeError:
            return 0
    return int(my_task.internal_data.get("cardinality") or len(_instances(spec, my_task)))


def counters(spec: Any, my_task: Any) -> dict[str, int]:
    instances = _instances(spec, my_task)
    completed = len(my_task.internal_data.get("merged", []))
    active = sum(1 for c in instances if not c.has_state(TaskState.FINISHED_MASK))
    return {"nrOfInstances": _total(spec, my_task), "nrOfActiveInstances": active,
            "nrOfCompletedInstances": completed}


def _create_child(self: Any, my_task: Any, item: Any, key_or_index: Any = None) -> None:
    _CREATE_CHILD(self, my_task, item, key_or_index)
    child = _instances(self, my_task)[-1]
    values = counters(self, my_task)
    if isinstance(self, ParallelMultiInstanceTask):  # all instances start together
        values["nrOfActiveInstances"] = values["nrOfInstances"] - values["nrOfCompletedInstances"]
    child.data.update(values)
    child.data["loopCounter"] = len(_instances(self, my_task)) - 1


def _local_names(spec: Any) -> set[str]:
    names = set(COUNTERS)
    if spec.input_item is not None:
        names.add(spec.input_item.bpmn_id)
    if spec.output_item is not None and spec.data_output is not None:
        names.add(spec.output_item.bpmn_id)
    return names - ({spec.data_input.bpmn_id} if spec.data_input is not None else set())


def _merge_child(self: Any, workflow: Any, child: Any) -> None:
    my_task = child.parent
    local = _local_names(self)
    collected = self.data_output is not None and self.output_item is not None
    _MERGE_CHILD(self, workflow, child)
    if collected:  # SpiffWorkflow keeps only the output item: other variables set inside reach the process
        output = self.data_output.bpmn_id
        for name, value in child.data.items():
            if name not in local and name != output:
                my_task.data[name] = value
    for name in local:
        my_task.data.pop(name, None)


def _check_completion_condition(self: Any, my_task: Any) -> Any:
    merged = my_task.internal_data.get("merged", [])
    if not merged or self.condition is None:
        return None
    last_child = next(c for c in my_task.children if str(c.id) == merged[-1])
    context = {**counters(self, my_task), "loopCounter": len(merged) - 1}
    engine = my_task.workflow.script_engine
    evaluate = getattr(engine, "evaluate_condition", engine.evaluate)
    return evaluate(last_child, self.condition, external_context=context)


def apply() -> None:
    MultiInstanceTask.create_child = _create_child
    MultiInstanceTask.merge_child = _merge_child
    MultiInstanceTask.check_completion_condition = _check_completion_condition
