"""In a simulation, exclusive and inclusive gateways ask the Simulator which flows to take."""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.exclusive_gateway import ExclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.inclusive_gateway import InclusiveGateway
from SpiffWorkflow.util.task import TaskState

from ..simulation import Alternative, Simulator, UndecidableCondition

_original_exclusive_run = ExclusiveGateway._run_hook
_original_inclusive_outputs = InclusiveGateway._get_matching_outputs


def simulator_of(task: Any) -> Simulator | None:
    return getattr(task.workflow.script_engine, "simulator", None)


def _element_id(spec: Any) -> str:
    return getattr(spec, "bpmn_id", None) or spec.name.split(".")[0]


def alternatives(spec: Any, task: Any, simulator: Simulator) -> tuple[list[Alternative], list[Any]]:
    """Each outgoing flow with its condition's verdict, and the target specs in the same order."""
    gateway_id = _element_id(spec)
    default_name = getattr(spec, "default_task_spec", None)
    out, targets = [], []
    for condition, output in spec.cond_task_specs:
        target = task.workflow.spec.get_task_spec_from_name(output)
        target_id = _element_id(target)
        flow_id = simulator.flows.get((gateway_id, target_id), "")
        alternative = Alternative(flow_id, target_id, simulator.flow_names.get(flow_id, ""),
                                  default=condition is None or output == default_name)
        if not alternative.default:
            try:
                alternative.verdict = bool(condition._matches(task))
            except UndecidableCondition as exc:
                alternative.reason = exc.reason
        out.append(alternative)
        targets.append(target)
    return out, targets


def _exclusive_run_hook(self: Any, my_task: Any) -> bool:
    simulator = simulator_of(my_task)
    if simulator is None:
        return _original_exclusive_run(self, my_task)
    options, targets = alternatives(self, my_task, simulator)
    [index] = simulator.decide(_element_id(self), options)[:1]
    my_task._sync_children([targets[index]], TaskState.FUTURE)
    for child in my_task.children:
        child.task_spec._predict(child, mask=TaskState.FUTURE | TaskState.PREDICTED_MASK)
    return True


def _inclusive_outputs(self: Any, my_task: Any) -> tuple[list[Any], list[Any]]:
    simulator = simulator_of(my_task)
    if simulator is None:
        return _original_inclusive_outputs(self, my_task)
    options, targets = alternatives(self, my_task, simulator)
    chosen = simulator.decide(_element_id(self), options, inclusive=True)
    return [targets[i] for i in chosen], []


def apply() -> None:
    ExclusiveGateway._run_hook = _exclusive_run_hook
    InclusiveGateway._get_matching_outputs = _inclusive_outputs
