"""Our task specs on top of SpiffWorkflow: handler-bound service tasks and pass-through tasks."""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.bpmn_spec_mixin import BpmnSpecMixin
from SpiffWorkflow.bpmn.specs.mixins.none_task import NoneTask as NoneTaskMixin
from SpiffWorkflow.spiff.specs.spiff_task import SpiffBpmnTask
from SpiffWorkflow.bpmn.specs.defaults import StartEvent
from SpiffWorkflow.camunda.specs.business_rule_task import BusinessRuleTask as CamundaBusinessRuleTask


class ServiceTaskBase:
    """A service, send or business rule task bound to a Python handler.

    `_run_hook` asks the engine's invoker to run it: True completes the task now, None leaves it STARTED
    (a job for a worker, or a BPMN error being caught by a boundary event).
    """

    manual = False

    def _init_binding(self, binding: dict[str, Any] | None, inputs: list[list[str]] | None,
                      outputs: list[list[str]] | None, params: dict[str, str] | None) -> None:
        self.binding = dict(binding or {})
        self.inputs_mapping = [list(m) for m in (inputs or [])]
        self.outputs_mapping = [list(m) for m in (outputs or [])]
        self.spiff_params = dict(params or {})

    def _run_hook(self, my_task: Any) -> bool | None:
        invoker = getattr(my_task.workflow.top_workflow.script_engine, "invoker", None)
        if invoker is None:
            raise RuntimeError("no service invoker configured on the script engine")
        return invoker.run_service_task(self, my_task)


class ServiceTask(ServiceTaskBase, BpmnSpecMixin):
    def __init__(self, wf_spec: Any, bpmn_id: str, binding: dict[str, Any] | None = None,
                 inputs_mapping: list[list[str]] | None = None, outputs_mapping: list[list[str]] | None = None,
                 spiff_params: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self._init_binding(binding, inputs_mapping, outputs_mapping, spiff_params)


class SpiffServiceTask(ServiceTaskBase, SpiffBpmnTask):
    """The same for the SpiffArena family, which keeps pre- and post-scripts."""

    def __init__(self, wf_spec: Any, bpmn_id: str, binding: dict[str, Any] | None = None,
                 inputs_mapping: list[list[str]] | None = None, outputs_mapping: list[list[str]] | None = None,
                 spiff_params: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self._init_binding(binding, inputs_mapping, outputs_mapping, spiff_params)


class PassThroughTask(NoneTaskMixin, BpmnSpecMixin):
    """A plain `bpmn:task`: Camunda passes straight through it (SpiffWorkflow would wait as for a manual task)."""

    def __init__(self, wf_spec: Any, bpmn_id: str, **kwargs: Any) -> None:
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.manual = False


class SpiffPassThroughTask(NoneTaskMixin, SpiffBpmnTask):
    def __init__(self, wf_spec: Any, bpmn_id: str, **kwargs: Any) -> None:
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.manual = False


SERVICE_CLASSES = (ServiceTask, SpiffServiceTask)


class InterruptingStartEvent(StartEvent):
    """The start event of an interrupting event subprocess: when it fires, the rest of its scope is cancelled
    (SpiffWorkflow runs every event subprocess alongside the main flow, as if none interrupted)."""

    def _on_complete_hook(self, my_task: Any) -> None:
        super()._on_complete_hook(my_task)
        workflow = my_task.workflow
        if workflow.parent_task_id is None:
            return
        trigger = workflow.top_workflow.get_task_from_id(workflow.parent_task_id)
        scope = trigger.workflow
        for branch in list(scope.task_tree.children):
            if branch is trigger or trigger.is_descendant_of(branch):
                continue
            branch.cancel()


class ResultVariableBusinessRuleTask(CamundaBusinessRuleTask):
    """A Camunda 8 business rule task (`zeebe:calledDecision resultVariable=...`): the decision's result goes
    into that one variable (a single output column's value, else a map of the outputs) instead of being merged."""

    def _run_hook(self, my_task: Any) -> bool:
        variable = (self.extensions or {}).get("resultVariable")
        if not variable:
            return super()._run_hook(my_task)
        result = self.dmnEngine.result(my_task)
        if isinstance(result, dict) and len(result) == 1:
            result = next(iter(result.values()))
        my_task.data[variable] = result
        return True
