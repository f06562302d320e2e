"""In a simulation: exclusive and inclusive gateways ask the Simulator which flows to take; timers, loops and
multi-instance activities whose expressions cannot be evaluated get a stated assumption."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.exclusive_gateway import ExclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.inclusive_gateway import InclusiveGateway
from SpiffWorkflow.bpmn.specs.event_definitions.conditional import ConditionalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition, DurationTimerEventDefinition, TimeDateEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask, StandardLoopTask
from SpiffWorkflow.bpmn.specs.bpmn_task_spec import BpmnTaskSpec
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import CallActivity, SubWorkflowTask
from SpiffWorkflow.util.task import TaskState

from ..simulation import Alternative, Simulator, UndecidableCondition

_originals: dict[str, Any] = {}  # what each patched method was when apply() ran (other patches included)


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
        return _originals["exclusive_run"](self, my_task)
    options, targets = alternatives(self, my_task, simulator)
    [index] = simulator.decide(_element_id(self), options)[:1]
    my_task._sync_children([targets[index]], TaskState.FUTURE)
    for child in my_task.children:
        child.task_spec._predict(child, mask=TaskState.FUTURE | TaskState.PREDICTED_MASK)
    return True


def _inclusive_outputs(self: Any, my_task: Any) -> tuple[list[Any], list[Any]]:
    simulator = simulator_of(my_task)
    if simulator is None:
        return _originals["inclusive_outputs"](self, my_task)
    options, targets = alternatives(self, my_task, simulator)
    chosen = simulator.decide(_element_id(self), options, inclusive=True)
    return [targets[i] for i in chosen], []


def simulated_value(spec: Any) -> tuple[Any, str] | None:
    """In a simulation, what an expression that cannot be evaluated stands for, by where it is: a timer fires at
    once, a loop condition ends the loop, a multi-instance cardinality runs once. None: no safe assumption."""
    definition = getattr(spec, "event_definition", None)
    if isinstance(definition, CycleTimerEventDefinition):
        return "R1/PT0S", "the timer fires at once"
    if isinstance(definition, DurationTimerEventDefinition):
        return "PT0S", "the timer fires at once"
    if isinstance(definition, TimeDateEventDefinition):
        return datetime.now(timezone.utc).isoformat(), "the timer fires at once"
    if isinstance(definition, ConditionalEventDefinition):
        if getattr(spec, "cancel_activity", None) is not None:  # a boundary event
            return False, "the boundary event does not fire"
        return True, "the event fires at once"
    if isinstance(spec, StandardLoopTask):
        return False, "the loop ends"
    if isinstance(spec, MultiInstanceTask):
        return 1, "one instance runs"
    return None




def _fill_inputs(variables: Any, my_task: Any, what: str) -> None:
    simulator = simulator_of(my_task)
    if simulator is None:
        return
    for var in variables:
        if not var.exists(my_task):
            my_task.data[var.bpmn_id] = None
            simulator.record(getattr(my_task.task_spec, "bpmn_id", None) or my_task.task_spec.name,
                             f"{what} {var.bpmn_id!r} was never set; assumed null")


def _task_update_hook(self: Any, my_task: Any) -> Any:
    """Data inputs an activity requires but nothing set are null in a simulation."""
    if self.io_specification is not None:
        _fill_inputs(self.io_specification.data_inputs, my_task, "data input")
    return _originals["task_update"](self, my_task)


def _copy_data(self: Any, my_task: Any, subworkflow: Any) -> Any:
    io = subworkflow.spec.io_specification
    if io is not None:
        _fill_inputs(io.data_inputs, my_task, "the called process's data input")
    owner = "CallActivity" if isinstance(self, CallActivity) else "SubWorkflowTask"
    return _originals[f"copy_data.{owner}"](self, my_task, subworkflow)




def _update_data(self: Any, my_task: Any, subworkflow: Any) -> Any:
    """Data outputs a called process never set are null in a simulation."""
    io = subworkflow.spec.io_specification
    simulator = simulator_of(my_task)
    if simulator is not None and io is not None and io.data_outputs:
        end = subworkflow.get_next_task(subworkflow.task_tree, skip_subprocesses=True, spec_name="End")
        for var in io.data_outputs:
            if end is not None and var.bpmn_id not in end.data:
                end.data[var.bpmn_id] = None
                simulator.record(getattr(self, "bpmn_id", None) or self.name,
                                 f"the called process never set its data output {var.bpmn_id!r}; assumed null")
    owner = "CallActivity" if isinstance(self, CallActivity) else "SubWorkflowTask"
    return _originals[f"update_data.{owner}"](self, my_task, subworkflow)


SIMULATED_CALL_DEPTH = 10


def _subworkflow_update_hook(self: Any, my_task: Any) -> Any:
    """A simulation does not follow calls nested deeper than SIMULATED_CALL_DEPTH (a process that calls itself):
    the call completes as a stub."""
    simulator = simulator_of(my_task)
    if simulator is not None and my_task.workflow.depth >= SIMULATED_CALL_DEPTH and \
            my_task.workflow.top_workflow.subprocesses.get(my_task.id) is None:
        simulator.record(getattr(self, "bpmn_id", None) or self.name,
                         f"calls nest {SIMULATED_CALL_DEPTH} deep (does a process call itself?); completed as a stub")
        return True
    return _originals["subworkflow_update"](self, my_task)


def _merge_child(self: Any, workflow: Any, child: Any) -> Any:
    """An instance of a multi-instance activity that never set its output item gives null in a simulation."""
    output_item = getattr(self, "output_item", None)
    simulator = simulator_of(child)
    if simulator is not None and output_item is not None and not output_item.exists(child):
        child.data[output_item.bpmn_id] = None
        simulator.record(getattr(self, "bpmn_id", None) or self.name,
                         f"the output item {output_item.bpmn_id!r} was never set; assumed null")
    return _originals["merge_child"](self, workflow, child)




def _mi_update_hook(self: Any, my_task: Any) -> Any:
    """A multi-instance collection that does not exist yet runs one instance in a simulation."""
    simulator = simulator_of(my_task)
    data_input = getattr(self, "data_input", None)
    if simulator is not None and data_input is not None and not data_input.exists(my_task):
        # not [None]: a sequential multi-instance stops at a null item, so the walk would stall there
        my_task.data[data_input.bpmn_id] = [{}]
        simulator.record(getattr(self, "bpmn_id", None) or self.name,
                         f"the collection {data_input.bpmn_id!r} does not exist yet; assumed one item (an empty "
                         f"object)")
    return _originals["mi_update"](self, my_task)


def apply() -> None:
    """Wrap the methods as they are now (after the other patches), once."""
    if _originals:
        return
    _originals.update({"exclusive_run": ExclusiveGateway._run_hook,
                       "inclusive_outputs": InclusiveGateway._get_matching_outputs,
                       "task_update": BpmnTaskSpec._update_hook, "merge_child": MultiInstanceTask.merge_child,
                       "mi_update": MultiInstanceTask._update_hook,
                       "subworkflow_update": SubWorkflowTask._update_hook})
    SubWorkflowTask._update_hook = _subworkflow_update_hook
    ExclusiveGateway._run_hook = _exclusive_run_hook
    InclusiveGateway._get_matching_outputs = _inclusive_outputs
    MultiInstanceTask._update_hook = _mi_update_hook
    MultiInstanceTask.merge_child = _merge_child
    BpmnTaskSpec._update_hook = _task_update_hook
    for cls in (CallActivity, SubWorkflowTask):
        _originals[f"copy_data.{cls.__name__}"] = cls.__dict__.get("copy_data", SubWorkflowTask.copy_data)
        _originals[f"update_data.{cls.__name__}"] = cls.__dict__.get("update_data", SubWorkflowTask.update_data)
        cls.copy_data = _copy_data
        cls.update_data = _update_data
