"""Service, send and business rule tasks bound to handlers: parameters, results by dialect, BPMN errors."""

from __future__ import annotations

from typing import Any, Callable

from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import ErrorEventDefinition
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from .. import expressions
from ..jsondata import copy_data
from ..script_functions import resolve_secret_reference
from ..errors import (BpmnError, ExecutionError, ExpressionError, InvalidOperationError, UnboundTaskError,
                      UnhandledBpmnError)
from ..models import Binding, ServiceCall
from . import async_points
from . import conditional
from .business_keys import business_key, execution_info
from .specs import SERVICE_CLASSES

PENDING = object()  # returned by a handler caller that queued the call as a job
HandlerCaller = Callable[[Binding, ServiceCall, str], Any]


class ServiceCalls:
    """Mixed into Session: the specs' `_run_hook` calls `run_service_task` through the script engine."""

    instance_id: str
    workflow: Any
    engine: Any
    simulate: bool
    notes: list[str]
    call_handler: HandlerCaller

    def run_service_task(self, spec: Any, task: Any) -> bool | None:
        raw = spec.binding or {}
        element_id = spec.bpmn_id
        if not raw.get("name"):
            if self.simulate:
                self.assume(element_id, "no handler binding; completed with no result")
                return True
            raise UnboundTaskError(f"service task {element_id!r} has no handler binding (add a camunda:topic, "
                                   f"zeebe:taskDefinition type or spiffworkflow:serviceTaskOperator)",
                                   element_id=element_id, instance_id=self.instance_id)
        binding = _binding_of(spec, raw)
        params = self._params(spec, task) if spec.inputs_mapping or spec.spiff_params else {}
        if raw.get("connector"):  # Camunda 7 connector: its own input parameters, over the task's inputs
            scope = {**task.data, **params}
            params = {target: self._mapping_value(source, scope, spec, self.engine.trusted, task)
                      for target, source in raw["connector"]["inputs"]}
        args = [self._argument(text, task.data, spec) for text in binding.arguments] if binding.arguments else []
        call = ServiceCall(params=params, data=copy_data(task.data), headers=dict(binding.headers),
                           instance_id=self.instance_id, element_id=element_id,
                           idempotency_key=self._idempotency_key(element_id), topic=binding.name,
                           element_name=spec.bpmn_name or "", process_id=task.workflow.spec.name, args=args,
                           business_key=business_key(task.workflow))
        try:
            result = self.call_handler(binding, call, str(task.id))
        except BpmnError as error:
            return self.throw_bpmn_error(task, error)
        if result is PENDING:
            return None
        self.apply_result(spec, task, binding, result)
        return True

    def _idempotency_key(self, element_id: str) -> str:
        """`instance:element:n` for the instance's n-th handler call. The count lives in the saved state (one number,
        so the state stays flat), so a run redone from the last commit (after a crash) gives each call the key it
        had the first time; a task id would not do: the tasks made since that commit get new ids when made again."""
        internal = self.workflow.task_tree.internal_data
        internal["runner_calls"] = number = internal.get("runner_calls", 0) + 1
        return f"{self.instance_id}:{element_id}:{number}"

    def assume(self, element_id: str, what: str) -> None:
        """Record what a simulation assumed at an element (a note outside a simulation)."""
        simulator = getattr(self.engine, "simulator", None)
        if simulator is not None:
            simulator.record(element_id, what)
        else:
            self.notes.append(f"simulate: {element_id}: {what}")

    def _params(self, spec: Any, task: Any) -> dict[str, Any]:
        params: dict[str, Any] = {}
        trusted = self.engine.trusted
        for target, source in spec.inputs_mapping:
            params[target] = self._mapping_value(source, task.data, spec, trusted, task)
        for name, expression in spec.spiff_params.items():
            try:
                params[name] = expressions.evaluate(expression, task.data, trusted=trusted, names=self.engine.names)
            except ExpressionError as exc:
                if self.simulate:
                    self.assume(spec.bpmn_id, f"parameter {name!r}: {exc.message}; using null")
                    params[name] = None
                    continue
                raise ExpressionError(f"parameter {name!r}: {exc.message}", element_id=spec.bpmn_id,
                                      instance_id=self.instance_id) from None
        context = getattr(self.engine, "script_context", None)
        if context is not None:  # `secret:NAME` values reach the handler only, never the instance data
            for key, value in list(params.items()):
                try:
                    params[key] = resolve_secret_reference(value, context)
                except InvalidOperationError as exc:
                    if not self.simulate:
                        raise ExpressionError(f"parameter {key!r}: {exc.message}", element_id=spec.bpmn_id,
                                              instance_id=self.instance_id) from None
                    self.assume(spec.bpmn_id, f"parameter {key!r}: {exc.message}; using null")
                    params[key] = None
        return params

    def _argument(self, text: str, data: dict[str, Any], spec: Any) -> Any:
        """One argument of `${bean.method(a, b)}`; `execution` stands for the process variables."""
        if text == "execution":
            return copy_data(data)
        return self._mapping_value("${" + text + "}", data, spec, self.engine.trusted)

    def _mapping_value(self, source: str, data: dict[str, Any], spec: Any, trusted: bool, task: Any = None) -> Any:
        try:
            if task is not None:  # execution.processBusinessKey and friends
                with expressions.execution_info(execution_info(task, self.instance_id)):
                    return expressions.evaluate_mapping(source, data, trusted=trusted)
            return expressions.evaluate_mapping(source, data, trusted=trusted)
        except expressions.MissingVariableError as exc:
            if not self.simulate:
                raise ExpressionError(exc.message, element_id=spec.bpmn_id, instance_id=self.instance_id) from None
            self.assume(spec.bpmn_id, f"{exc.message}; using null")
            return None
        except ExpressionError as exc:
            raise ExpressionError(f"mapping {source!r}: {exc.message}", element_id=spec.bpmn_id,
                                  instance_id=self.instance_id) from None

    def apply_result(self, spec: Any, task: Any, binding: Binding, result: Any) -> None:
        """Store a handler's result by its dialect: SpiffArena under resultVariable, Camunda merged."""
        if binding.dialect == "spiff":
            name = binding.result_variable or f"spiff__{spec.bpmn_id.replace('-', '_')}_result"
            task.data[name] = result
            return
        connector = (spec.binding or {}).get("connector")
        if connector:  # the response is seen only by the connector's output parameters, as in Camunda 7
            response = result if isinstance(result, dict) else {"response": result}
            scope = {**task.data, **response}
            result = {target: self._mapping_value(source, scope, spec, self.engine.trusted, task)
                      for target, source in connector["outputs"]}
        elif binding.kind == "expression" and binding.result_variable:
            task.data[binding.result_variable] = result  # camunda:resultVariable holds the value as returned
            return
        if result is None:
            result = {}
        if not isinstance(result, dict):
            if binding.result_variable:
                task.data[binding.result_variable] = result
                return
            raise ExecutionError(f"handler {binding.name!r} returned {type(result).__name__}; a Camunda-style "
                                 f"handler returns a dict of variables (or None)",
                                 element_id=spec.bpmn_id, instance_id=self.instance_id)
        if spec.outputs_mapping:
            # Camunda 7 and Zeebe: input mappings are local variables of the element, and its output mappings
            # see them (they were the handler's params, never written to the process data)
            local = {target: self._mapping_value(source, task.data, spec, self.engine.trusted)
                     for target, source in spec.inputs_mapping}
            scope = {**task.data, **local, **result}
            for target, source in spec.outputs_mapping:
                task.data[target] = self._mapping_value(source, scope, spec, self.engine.trusted, task)
        else:
            task.data.update(result)

    def started_service_task(self, task_id: str) -> Any:
        task = self._find_task(task_id)
        if task is None or not task.has_state(TaskState.STARTED) or not isinstance(task.task_spec, SERVICE_CLASSES):
            raise InvalidOperationError(f"task {task_id} is not a service task waiting for its handler",
                                        instance_id=self.instance_id)
        return task

    def complete_service_task(self, task_id: str, result: Any) -> None:
        """A worker's handler returned: store the result by the dialect's rules and move on."""
        task = self.started_service_task(task_id)
        spec = task.task_spec
        raw = spec.binding or {}
        binding = Binding(raw.get("name", ""), raw.get("dialect", "bpmn"), raw.get("kind", "topic"),
                          result_variable=raw.get("result_variable"))
        self.apply_result(spec, task, binding, result)
        if async_points.hold_after(task):  # asyncAfter: commit before the flow goes on
            return
        try:
            task.complete()
            conditional.fire_now(task.workflow.top_workflow)
        except SpiffWorkflowException as exc:
            raise self._translate(exc) from exc

    def raise_in_service_task(self, task_id: str, error: BpmnError) -> None:
        """A worker's handler raised a BpmnError: take the matching error path, or fail if none catches it."""
        task = self.started_service_task(task_id)
        self.throw_bpmn_error(task, error)

    def throw_bpmn_error(self, task: Any, error: BpmnError) -> None:
        event = BpmnEvent(self._definition_class(ErrorEventDefinition)(error.code, code=error.code),
                          payload=dict(error.data) or {"errorMessage": error.message}, target=task.workflow)
        if self._catch_upwards(event):
            self.notes.append(f"{task.task_spec.bpmn_id}: BPMN error {error.code} caught")
            return None
        raise UnhandledBpmnError(f"BPMN error {error.code!r} ({error.message or 'no message'}) was raised by the "
                                 f"handler and no error boundary event or event subprocess catches it",
                                 element_id=task.task_spec.bpmn_id, instance_id=self.instance_id)


    def _catch_upwards(self, event: BpmnEvent) -> int:
        """Deliver an event to the nearest enclosing workflow that catches it (boundary events first, then event
        subprocesses); SpiffWorkflow's own catch loses the count when it moves up a level."""
        manager = self.workflow.event_manager
        while event.target is not None:
            if any(t.workflow == event.target and t.task_spec.event_definition.catches(t, event)
                   for t in manager.tasks.values()):
                break
            event.target = event.target.parent_workflow
        started_before = len(self.workflow.subprocesses)
        count = manager.catch(event, internal=False)
        # With no target left, SpiffWorkflow starts a catching event subprocess but counts no task.
        return count + max(0, len(self.workflow.subprocesses) - started_before)


def _binding_of(spec: Any, raw: dict[str, Any]) -> Binding:
    """The spec's Binding, made once per spec (a frozen value; each call copies its headers)."""
    cached = spec.__dict__.get("_runner_binding")
    if cached is not None and cached[0] is raw:
        return cached[1]
    binding = Binding(raw["name"], raw.get("dialect", "bpmn"), raw.get("kind", "topic"), raw.get("retries"),
                      raw.get("retry_cycle"), dict(raw.get("headers") or {}), raw.get("result_variable"),
                      tuple(raw.get("arguments") or ()))
    spec._runner_binding = (raw, binding)
    return binding
