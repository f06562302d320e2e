"""The script engine SpiffWorkflow calls for conditions, timers, scripts and DMN: safe, dialect-aware."""

from __future__ import annotations

from typing import Any, Callable

from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.specs.mixins.exclusive_gateway import ExclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.inclusive_gateway import InclusiveGateway

from .. import expressions
from ..errors import ExpressionError
from ..expressions import bpmn_engine_js, javascript
from ..models import FEEL_SCRIPT_MARKER, JAVASCRIPT_TASK_MARKER, SIMULATED_MARKER
from ..simulation import Simulator, UndecidableCondition
from .simulated_specs import simulated_value
from .bean_calls import bean_resolver
from .business_keys import execution_info
from .timers import is_timer_expression, timer_text


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
        return expressions.evaluate(expression, data, trusted=self.engine.trusted, names=self.engine.names)

    def execute(self, script: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> bool:
        expressions.execute_script(script, context, trusted=self.engine.trusted, names=self.engine.names)
        return True

    def call_service(self, context: dict[str, Any], **kwargs: Any) -> Any:
        raise ExpressionError("service calls go through handlers")


class RunnerScriptEngine(PythonScriptEngine):
    """Evaluates Python (safely unless trusted), JUEL `${...}` and FEEL `=...`; runs scripts sandboxed."""

    def __init__(self, *, trusted: bool = False, simulate: bool = False,
                 note: Callable[[str], None] | None = None, simulator: Simulator | None = None) -> None:
        super().__init__(environment=SafeEnvironment(self))
        self.trusted = trusted
        self.simulate = simulate
        self.simulator = simulator  # set in a simulation: gateways ask it, scripts that cannot run are skipped
        self.names: dict[str, Any] = {}  # script functions (get_current_user(), ...) beside the data
        self.script_context: Any = None
        self.invoker: Any = None
        self._note = note or (lambda _msg: None)

    def validate(self, expression: str) -> None:
        # DMN uses this to decide whether to add '=='; it must raise SyntaxError like ast.parse.
        import ast
        ast.parse(expression)

    def evaluate(self, task: Any, expression: str, external_context: dict[str, Any] | None = None, *,
                 condition: bool = False) -> Any:
        data = task.data if not external_context else {**task.data, **external_context}
        deciding = self.simulator is not None and isinstance(task.task_spec, (ExclusiveGateway, InclusiveGateway))
        if deciding and expression.startswith(SIMULATED_MARKER):
            raise UndecidableCondition(expression[len(SIMULATED_MARKER):].strip())
        evaluate = expressions.evaluate_condition if condition else expressions.evaluate
        try:
            with expressions.execution_info(execution_info(task, getattr(self.invoker, "instance_id", None))), \
                    expressions.bean_calls(bean_resolver(task)):
                result = evaluate(expression, data, trusted=self.trusted, names=self.names)
            return timer_text(result) if is_timer_expression(task, expression) else result
        except ExpressionError as exc:
            if deciding:
                missing = isinstance(exc, expressions.MissingVariableError)
                raise UndecidableCondition(("the condition reads data that does not exist yet: " if missing
                                            else "") + exc.message) from None
            assumed = simulated_value(task.task_spec) if self.simulator is not None else None
            if assumed is not None and self.simulator is not None:
                value, what = assumed
                self.simulator.record(_element(task), f"cannot evaluate {expression.strip()[:60]!r} ({exc.message}); "
                                                      f"{what}")
                return value
            raise ExpressionError(exc.message, element_id=_element(task)) from None

    def evaluate_condition(self, task: Any, expression: str, external_context: dict[str, Any] | None = None) -> Any:
        """Conditions of flows, completion and conditional events: JUEL ones must give a Boolean."""
        return self.evaluate(task, expression, external_context, condition=True)

    def execute(self, task: Any, script: str, external_context: dict[str, Any] | None = None) -> bool:
        if script.startswith(SIMULATED_MARKER) and self.simulator is not None:
            self.simulator.record(_element(task), script[len(SIMULATED_MARKER):].strip())
            return True
        try:
            if script.startswith(JAVASCRIPT_TASK_MARKER):  # a Camunda 7 JavaScript script task
                variable, _, code = script[len(JAVASCRIPT_TASK_MARKER):].partition("\n")
                self.run_javascript(task, code, result_variable=variable.strip() or None)
                return True
            if script.startswith(FEEL_SCRIPT_MARKER):  # a Camunda 8 script task: one FEEL expression to a variable
                variable, _, expression = script[len(FEEL_SCRIPT_MARKER):].partition("\n")
                task.data[variable.strip()] = self.evaluate(task, expression, external_context)
                return True
            expressions.execute_script(script, task.data, trusted=self.trusted, names=self.names)
        except ExpressionError as exc:
            if self.simulator is not None:
                why = exc.message.removeprefix("script failed: ")
                self.simulator.record(_element(task), f"the script could not run ({why}); skipped")
                return True
            if exc.message.startswith("script failed:"):
                raise ExpressionError(exc.message, element_id=_element(task)) from None
            raise ExpressionError(f"script failed: {exc.message}", element_id=_element(task)) from None
        return True

    def run_javascript(self, task: Any, code: str, *, result_variable: str | None = None,
                       event: str | None = None) -> Any:
        """Run JavaScript against the task's variables; what it sets through `execution` is written back."""
        info = {**execution_info(task, getattr(self.invoker, "instance_id", None)), "elementId": _element(task),
                "eventName": event}
        try:
            outcome = javascript.run_script(bpmn_engine_js.adapt(code), task.data, info=info)
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
