"""Serialization of specs and instance states, with the spec kept apart from each instance's state."""

from __future__ import annotations

import json
from uuid import UUID
from copy import deepcopy
from typing import Any

from SpiffWorkflow.bpmn.serializer.default.task_spec import MultiInstanceTaskConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import TaskConverter
from SpiffWorkflow.bpmn.serializer.helpers.spec import BpmnDataSpecificationConverter, TaskSpecConverter
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.defaults import StartEvent
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.camunda.specs.business_rule_task import BusinessRuleTask as CamundaBusinessRuleTask
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from . import compensation, frontier, people
from .compensation_specs import COMPENSATION_SPECS, CompensationEventConverter
from ..models import TaskReader
from .decisions import DecisionTask, DecisionTaskConverter, restoring_with
from .parser import DocumentationDataStore
from .task_ids import TaskId
from .patches import StandardParallelMultiInstanceTask, StandardSequentialMultiInstanceTask
from .specs import (InterruptingStartEvent, PassThroughTask, ResultVariableBusinessRuleTask, ServiceTask,
                    SpiffPassThroughTask, SpiffServiceTask)


class RunnerTaskConverter(TaskSpecConverter):
    """Converts our service and pass-through specs (and their SpiffArena pre/post scripts)."""

    def to_dict(self, spec: Any) -> dict[str, Any]:
        dct = self.get_default_attributes(spec)
        dct.pop("manual", None)
        if hasattr(spec, "prescript"):
            dct["prescript"] = spec.prescript
            dct["postscript"] = spec.postscript
        if hasattr(spec, "binding"):
            dct["binding"] = spec.binding
            dct["inputs_mapping"] = spec.inputs_mapping
            dct["outputs_mapping"] = spec.outputs_mapping
            dct["spiff_params"] = spec.spiff_params
        return dct

    def from_dict(self, dct: dict[str, Any]) -> Any:
        dct.pop("manual", None)
        return self.task_spec_from_dict(dct)


def _config(family: str) -> dict[type, type]:
    config = deepcopy(SPIFF_CONFIG if family == "spiff" else CAMUNDA_CONFIG)
    if family == "spiff":
        config[SpiffServiceTask] = RunnerTaskConverter
        config[SpiffPassThroughTask] = RunnerTaskConverter
    else:
        config[ServiceTask] = RunnerTaskConverter
        config[PassThroughTask] = RunnerTaskConverter
        config[ResultVariableBusinessRuleTask] = config[CamundaBusinessRuleTask]
        config[DecisionTask] = DecisionTaskConverter
        config[StandardParallelMultiInstanceTask] = MultiInstanceTaskConverter
        config[StandardSequentialMultiInstanceTask] = MultiInstanceTaskConverter
    config[DocumentationDataStore] = BpmnDataSpecificationConverter
    config[InterruptingStartEvent] = config[StartEvent]
    for spec_class in COMPENSATION_SPECS:
        config[spec_class] = CompensationEventConverter
    return config


_SERIALIZERS: dict[str, BpmnWorkflowSerializer] = {}
_WORKFLOW_CONVERTERS: dict[str, Any] = {}


def serializer_for(family: str) -> BpmnWorkflowSerializer:
    if family not in _SERIALIZERS:
        config = _config(family)
        registry = BpmnWorkflowSerializer.configure(config)
        registry.typenames[TaskId] = registry.typenames[UUID]  # a task id that reached the data saves as a UUID
        # Flat workflows save under the stock type names, and every saved state restores as a flat workflow.
        _WORKFLOW_CONVERTERS[family] = config[BpmnWorkflow](frontier.workflow_class(), registry,
                                                            typename="BpmnWorkflow")
        if frontier.ENABLED:
            config[BpmnSubWorkflow](frontier.FlatSubWorkflow, registry, typename="BpmnSubWorkflow")
        _SERIALIZERS[family] = BpmnWorkflowSerializer(registry)
    return _SERIALIZERS[family]


def spec_to_json(family: str, spec: Any, subprocess_specs: dict[str, Any]) -> str:
    """The definition, serialized once per definition version (not into every instance)."""
    ser = serializer_for(family)
    return json.dumps({"spec": ser.to_dict(spec),
                       "subprocess_specs": {k: ser.to_dict(v) for k, v in subprocess_specs.items()}},
                      separators=(",", ":"), sort_keys=True)


def spec_from_json(family: str, text: str, reader: TaskReader | None = None) -> tuple[Any, dict[str, Any]]:
    """The specs `spec_to_json` wrote; decisions not read in this process are read with `reader` (the loader's)."""
    ser = serializer_for(family)
    dct = json.loads(text)
    with restoring_with(reader):
        return ser.from_dict(dct["spec"]), {k: ser.from_dict(v) for k, v in dct["subprocess_specs"].items()}


PREDICT_KEY = "bpmn_runner_predict"  # ids of saved tasks whose predicted children were left out; predicted again


def state_to_json(family: str, workflow: Any) -> str:
    """The instance state as JSON text, without the spec and without the tasks SpiffWorkflow only predicts beyond
    the first level below the frontier (a restore predicts them again): its size follows what is running, not
    how much of the diagram lies ahead."""
    ser = serializer_for(family)
    registry = ser.registry
    if hasattr(workflow, "prune_for_save"):
        workflow.prune_for_save()
    registry._encoder_mode = True
    try:
        dct = _workflow_dict(registry, workflow)
        dct["subprocesses"] = {str(key): _workflow_dict(registry, sub, sub=True)
                               for key, sub in workflow.subprocesses.items()}
        dct["bpmn_events"] = registry.convert(workflow.bpmn_events)
    finally:
        registry._encoder_mode = False
    dct[ser.VERSION_KEY] = ser.VERSION
    ledger = compensation.state_for_save(workflow)
    if ledger is not None:
        dct["compensation"] = ledger
    who = people.state_for_save(workflow)
    if who is not None:
        dct[people.STATE_KEY] = who
    return json.dumps(dct, cls=ser._encoder_cls, separators=(",", ":"))


def ended_state_to_json(workflow: Any) -> str:
    """The state kept for an instance that has ended: who started it and who completed its tasks, nothing to
    restore (an ended instance never runs again; as in Camunda 7, its runtime state goes and its history stays)."""
    who = people.state_for_save(workflow)
    return json.dumps({"ended": True, **({people.STATE_KEY: who} if who is not None else {})},
                      separators=(",", ":"))


def _workflow_dict(registry: Any, wf: Any, sub: bool = False) -> dict[str, Any]:
    """WorkflowConverter.to_dict (and BpmnSubWorkflowConverter's) over the frontier's tasks only."""
    frontier_tasks = wf.frontier_tasks() if hasattr(wf, "frontier_tasks") else None
    tasks: dict[str, Any] = {}
    predict: list[str] = []
    convert = _task_dict if registry.typenames.get(Task) == "Task" and \
        type(registry.convert_to_dict["Task"].args[1].__self__) is TaskConverter else registry.convert
    all_tasks = wf.tasks
    for task in frontier_tasks if frontier_tasks is not None else all_tasks.values():
        converted = convert(task) if convert is registry.convert else convert(registry, task, all_tasks)
        if frontier_tasks is not None and task._state & frontier.PREDICTED and task._children:
            converted["children"] = []
            predict.append(converted["id"])
        tasks[converted["id"]] = converted
    dct = {"data": registry.convert(registry.clean(wf.data)), "correlations": wf.correlations,
           "last_task": str(wf.last_task.id) if wf.last_task is not None else None, "success": wf.success,
           "completed": wf.completed, "tasks": tasks, "root": str(wf.task_tree.id)}
    if sub:
        dct["parent_task_id"] = str(wf.parent_task_id)
        dct["spec"] = wf.spec.name
    if "business_key" in vars(wf):  # the instance's (or a called instance's) business key
        dct["business_key"] = wf.business_key
    if predict:
        dct[PREDICT_KEY] = predict
    dct["typename"] = registry.typenames[type(wf)]
    return dct


def _task_dict(registry: Any, task: Any, tasks: dict[Any, Any]) -> dict[str, Any]:
    """SpiffWorkflow's TaskConverter.to_dict (and the typename the registry adds) without the registry's dispatch:
    a committed step saves a few tasks, and the generic path was half of saving them."""
    parent = tasks.get(task._parent)
    if parent is None:
        data, delta = task.data, {}
    else:
        parent_data, own = parent.data, task.data
        data = {}
        delta = {"updates": {k: v for k, v in own.items() if k not in parent_data or v != parent_data[k]},
                 "deletions": [k for k in parent_data if k not in own]}
    internal = task.internal_data
    return {"id": str(task.id), "parent": str(task._parent) if parent is not None else None,
            "children": [str(child) for child in task._children], "last_state_change": task.last_state_change,
            "state": task._state, "task_spec": task.task_spec.name, "triggered": task.triggered,
            "internal_data": registry.convert(internal) if internal else {}, "data": data, "delta": delta,
            "typename": "Task"}


def state_to_dict(family: str, workflow: Any) -> dict[str, Any]:
    """The instance state without the spec, as a JSON-ready dict (see state_to_json)."""
    return json.loads(state_to_json(family, workflow))


def missing_elements(state: dict[str, Any], spec: Any, subprocess_specs: dict[str, Any]) -> list[str]:
    """The elements (or called processes) a saved state has tasks at that the diagram no longer defines."""
    missing: list[str] = []

    def check(tasks: dict[str, Any], owner: Any) -> None:
        known = getattr(owner, "task_specs", {})
        for task in tasks.values():
            name = task.get("task_spec") if isinstance(task, dict) else None
            if isinstance(name, str) and name not in known and name not in missing:
                missing.append(name)

    check(state.get("tasks") or {}, spec)
    for sub in (state.get("subprocesses") or {}).values():
        if not isinstance(sub, dict):
            continue
        name = sub.get("spec")
        owner = subprocess_specs.get(name) if isinstance(name, str) else None
        if owner is None:
            if isinstance(name, str) and name not in missing:
                missing.append(name)
            continue
        check(sub.get("tasks") or {}, owner)
    return missing


def state_from_dict(family: str, state: dict[str, Any], spec: Any, subprocess_specs: dict[str, Any]) -> Any:
    """Rebuild a live workflow from a state and its (already parsed) spec.

    A state of the current serializer version is attached to the live spec directly; converting the spec to a
    dict and back on every restore was the slowest part of a persisted step. Older states take the stock path,
    which runs SpiffWorkflow's migrations (they may rewrite the spec part too)."""
    ser = serializer_for(family)
    if state.get(ser.VERSION_KEY) != ser.VERSION:
        dct = deepcopy(state)
        ledger = dct.pop("compensation", None)
        who = dct.pop(people.STATE_KEY, None)
        dct["spec"] = ser.to_dict(spec)
        dct["subprocess_specs"] = {k: ser.to_dict(v) for k, v in subprocess_specs.items()}
        ser.migrate(dct)
        workflow = ser.from_dict(dct)
        compensation.restore_state(workflow, ledger)
        people.restore_state(workflow, who)
        return workflow
    # restoring pops keys of the workflow dicts (never of the task dicts): copy those only
    dct = dict(state)
    ledger = dct.pop("compensation", None)
    who = dct.pop(people.STATE_KEY, None)
    dct["subprocesses"] = {k: dict(v) for k, v in state.get("subprocesses", {}).items()}
    converter = _WORKFLOW_CONVERTERS[family]
    workflow = converter.target_class(spec, subprocess_specs, deserializing=True)
    workflow.tasks = converter.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
    workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
    converter.set_default_attributes(workflow, dct)
    predict = {None: dct.get(PREDICT_KEY, [])}
    predict.update({k: v.get(PREDICT_KEY, []) for k, v in dct["subprocesses"].items()})
    converter.subprocesses_from_dict(dct["subprocesses"], workflow)
    if "business_key" in dct:
        workflow.business_key = dct["business_key"]
    for key, sub in dct["subprocesses"].items():
        if "business_key" in sub and UUID(key) in workflow.subprocesses:
            workflow.subprocesses[UUID(key)].business_key = sub["business_key"]
    workflow.bpmn_events = ser.registry.restore(dct.pop("bpmn_events", []))
    for key, ids in predict.items():
        wf = workflow if key is None else workflow.subprocesses.get(UUID(key))
        for task_id in ids:
            task = wf.tasks[UUID(task_id)]
            task.task_spec._predict(task, mask=TaskState.NOT_FINISHED_MASK)
    compensation.restore_state(workflow, ledger)
    people.restore_state(workflow, who)
    return workflow
