"""The script engine SpiffWorkflow calls for conditions, timers, scripts and DMN: safe, dialect-aware."""

from __future__ import annotations

from typing import Any, Callable

from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.specs.mixins.exclusive_gateway import ExclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.inclusive_gateway import InclusiveGateway

from .. import expressions
from ..errors import ExpressionError
from ..expressions import javascript
from .timers import is_timer_expression, timer_text
from ..models import FEEL_SCRIPT_MARKER, JAVASCRIPT_TASK_MARKER


def _element(task: Any) -> str:
    spec = getattr(task, "task_spec", None)
    return getattr(spec, "bpmn_id", None) or getattr(spec, "name", "?")


class SafeEnvironment:
    """SpiffWorkflow also evaluates correlation keys and ad-hoc conditions through `environment` directly."""

    def __init__(self, engine: "RunnerScriptEngine") -> None:
        self.engine = engine
        self.globals: dict[str, Any] = {}

    def evaluate(self, expression: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> Any:
        data = {**context, **(external_context or {})}
        return expressions.evaluate(expression, data, trusted=self.engine.trusted)

    def execute(self, script: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> bool:
        expressions.execute_script(script, context, trusted=self.engine.trusted)
        return True

    def call_service(self, context: dict[str, Any], **kwargs: Any) -> Any:
        raise ExpressionError("service calls go through handlers")


class RunnerScriptEngine(PythonScriptEngine):
    """Evaluates Python (safely unless trusted), JUEL `${...}` and FEEL `=...`; runs scripts sandboxed."""

    def __init__(self, *, trusted: bool = False, simulate: bool = False,
                 note: Callable[[str], None] | None = None) -> None:
        super().__init__(environment=SafeEnvironment(self))
        self.trusted = trusted
        self.simulate = simulate
        self.invoker: Any = None
        self._note = note or (lambda _msg: None)
        self._simulated_choice: dict[Any, str] = {}

    def validate(self, expression: str) -> None:
        # DMN uses this to decide whether to add '=='; it must raise SyntaxError like ast.parse.
        import ast
        ast.parse(expression)

    def evaluate(self, task: Any, expression: str, external_context: dict[str, Any] | None = None, *,
                 condition: bool = False) -> Any:
        data = task.data if not external_context else {**task.data, **external_context}
        evaluate = expressions.evaluate_condition if condition else expressions.evaluate
        try:
            result = evaluate(expression, data, trusted=self.trusted)
            return timer_text(result) if is_timer_expression(task, expression) else result
        except expressions.MissingVariableError as exc:
            if self.simulate and isinstance(task.task_spec, (ExclusiveGateway, InclusiveGateway)):
                return self._simulated_condition(task, expression, exc)
            raise ExpressionError(exc.message, element_id=_element(task)) from None
        except ExpressionError as exc:
            raise ExpressionError(exc.message, element_id=_element(task)) from None

    def evaluate_condition(self, task: Any, expression: str, external_context: dict[str, Any] | None = None) -> Any:
        """Conditions of flows, completion and conditional events: JUEL ones must give a Boolean."""
        return self.evaluate(task, expression, external_context, condition=True)

    def _simulated_condition(self, task: Any, expression: str, exc: ExpressionError) -> bool:
        """Without data, take the gateway's default flow, else its first conditional flow."""
        spec = task.task_spec
        has_default = getattr(spec, "default_task_spec", None) is not None
        if has_default:
            choice = "default"
            result = False
        else:
            first = self._simulated_choice.setdefault(task.id, expression)
            choice = "first"
            result = first == expression
        if (task.id, "noted") not in self._simulated_choice:
            self._simulated_choice[(task.id, "noted")] = choice
            self._note(f"simulate: {_element(task)}: {exc.message}; "
                       f"taking the {'default' if has_default else 'first'} flow")
        return result

    def execute(self, task: Any, script: str, external_context: dict[str, Any] | None = None) -> bool:
        if script.startswith(FEEL_SCRIPT_MARKER):  # a Camunda 8 script task: one FEEL expression to a variable
            variable, _, expression = script[len(FEEL_SCRIPT_MARKER):].partition("\n")
            task.data[variable.strip()] = self.evaluate(task, expression, external_context)
            return True
        if script.startswith(JAVASCRIPT_TASK_MARKER):  # a Camunda 7 JavaScript script task
            variable, _, code = script[len(JAVASCRIPT_TASK_MARKER):].partition("\n")
            self.run_javascript(task, code, result_variable=variable.strip() or None)
            return True
        try:
            expressions.execute_script(script, task.data, trusted=self.trusted)
        except ExpressionError as exc:
            raise ExpressionError(f"script failed: {exc.message}", element_id=_element(task)) from None
        return True

    def run_javascript(self, task: Any, code: str, *, result_variable: str | None = None,
                       event: str | None = None) -> Any:
        """Run JavaScript against the task's variables; what it sets through `execution` is written back."""
        info = {"elementId": _element(task), "instanceId": getattr(self.invoker, "instance_id", None),
                "eventName": event}
        try:
            outcome = javascript.run_script(code, task.data, info=info)
        except ExpressionError as exc:
            raise ExpressionError(f"script failed: {exc.message}", element_id=_element(task)) from None
        for name in outcome.removed:
            task.data.pop(name, None)
        task.data.update(outcome.changed)
        if result_variable:
            task.data[result_variable] = outcome.result
        return outcome.result

    def call_service(self, task: Any, **kwargs: Any) -> Any:
        raise ExpressionError("service calls go through handlers", element_id=_element(task))
