"""Evaluate decisions: required decisions first, input data by typeRef, BKMs and decision services as functions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import feel
from .boxed import BoxedEvaluator, call_function
from .errors import DmnProblem
from .model import (BusinessKnowledgeModel, Decision, DecisionService, DecisionTable, Definitions, DrgElement,
                    InputData, Reference)
from .types import TypeResolver


@dataclass
class DecisionResult:
    """What evaluating one decision gave: its value, every decision evaluated on the way, matched rules, errors."""

    decision_id: str
    decision_name: str
    value: Any
    results: dict[str, Any] = field(default_factory=dict)
    matched_rules: dict[str, list[str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


class DecisionModel:
    """A set of DMN definitions (the first is the main one) that may import each other by namespace."""

    def __init__(self, definitions: list[Definitions]) -> None:
        if not definitions:
            raise ValueError("no DMN definitions")
        self.definitions = definitions
        self.main = definitions[0]
        self.by_namespace: dict[str, Definitions] = {}
        for defs in definitions:
            self.by_namespace.setdefault(defs.namespace, defs)
        self.compiled: dict[Any, Any] = {}
        self._resolvers: dict[int, TypeResolver] = {}

    def resolver(self, defs: Definitions) -> TypeResolver:
        if id(defs) not in self._resolvers:
            self._resolvers[id(defs)] = TypeResolver(defs, lambda name: self.imported(defs, name))
        return self._resolvers[id(defs)]

    def imported(self, defs: Definitions, import_name: str) -> Definitions | None:
        for item in defs.imports:
            if item.name == import_name:
                return self.by_namespace.get(item.namespace)
        return None

    def import_name(self, defs: Definitions, namespace: str) -> str | None:
        return next((i.name for i in defs.imports if i.namespace == namespace), None)

    def resolve(self, defs: Definitions, ref: Reference) -> tuple[Definitions, DrgElement]:
        target = defs if not ref.namespace or ref.namespace == defs.namespace else self.by_namespace.get(ref.namespace)
        element = target.element(ref.id) if target is not None else None
        if target is None or element is None:
            where = f" in namespace {ref.namespace}" if ref.namespace else ""
            raise DmnProblem(f"reference to {ref.id!r}{where}, which no loaded DMN file defines; load the file that "
                             f"defines it")
        return target, element

    def find_decision(self, id_or_name: str | None) -> tuple[Definitions, Decision]:
        """A decision by id or name (the main file first); None: the main file's only top-level decision."""
        if id_or_name is None:
            return self.main, self.default_decision()
        for defs in self.definitions:
            found = defs.find_decision(id_or_name)
            if found is not None:
                return defs, found
        names = ", ".join(d.id if d.name == d.id else f"{d.id} ({d.name})" for d in self.main.decisions.values())
        raise KeyError(f"no decision {id_or_name!r}; the file has: {names or 'no decisions'}")

    def default_decision(self) -> Decision:
        """The main file's decision that no other decision requires (the first such one)."""
        decisions = list(self.main.decisions.values())
        if not decisions:
            raise KeyError("the file has no decisions (only business knowledge models, decision services or input "
                           "data); give a file with a decision")
        required = {r.id for d in decisions for r in d.required_decisions}
        tops = [d for d in decisions if d.id not in required]
        return (tops or decisions)[0]

    def find_invocable(self, name: str) -> tuple[Definitions, DrgElement] | None:
        for defs in self.definitions:
            for table in (defs.services, defs.knowledge, defs.decisions):
                for element in table.values():
                    if element.name == name or element.id == name:
                        return defs, element
        return None

    def evaluate(self, id_or_name: str | None, inputs: dict[str, Any],
                 namespaced: dict[tuple[str, str], Any] | None = None, *, variables: bool = True) -> DecisionResult:
        """With `variables`, every input is in scope (Camunda tables read process variables without input data)."""
        defs, decision = self.find_decision(id_or_name)
        run = Evaluation(self, inputs, namespaced or {}, variables=variables)
        value = run.decision(defs, decision)
        return DecisionResult(decision.id, decision.name, value, run.results, run.matched, run.errors)

    def invoke(self, name: str, inputs: dict[str, Any]) -> tuple[Any, list[str]]:
        """Invoke a decision service or BKM by name with named arguments: (value, errors)."""
        found = self.find_invocable(name)
        if found is None:
            raise KeyError(f"no decision service or business knowledge model named {name!r}")
        defs, element = found
        run = Evaluation(self, {}, {})
        if isinstance(element, DecisionService):
            value: Any = run.invoke_service(defs, element, inputs)
        elif isinstance(element, BusinessKnowledgeModel):
            function = run.knowledge(defs, element)
            try:
                value = call_function(function, named={p: inputs.get(p) for p in function.params})
            except DmnProblem as problem:
                run.note(problem.message, problem.line)
                value = None
        else:
            value = {element.name: run.decision(defs, element)}
        return value, run.errors


class Evaluation:
    """One evaluation: decision values memoized by (namespace, id), problems collected."""

    def __init__(self, model: DecisionModel, inputs: dict[str, Any], namespaced: dict[tuple[str, str], Any],
                 *, variables: bool = False) -> None:
        self.model = model
        self.variables = variables
        self.inputs = inputs
        self.namespaced = namespaced
        self.memo: dict[tuple[str, str], Any] = {}
        self.active: set[tuple[str, str]] = set()
        self.results: dict[str, Any] = {}
        self.matched: dict[str, list[str]] = {}
        self.errors: list[str] = []
        self._boxed: dict[int, BoxedEvaluator] = {}
        self._current = ""

    def note(self, message: str, line: int = 0) -> None:
        where = f"{self._current}: " if self._current else ""
        at = f" (line {line})" if line else ""
        self.errors.append(f"{where}{message}{at}")

    def boxed(self, defs: Definitions) -> BoxedEvaluator:
        if id(defs) not in self._boxed:
            self._boxed[id(defs)] = BoxedEvaluator(self.model.resolver(defs), self.model.compiled, self.note,
                                                   defs.expression_language)
        return self._boxed[id(defs)]

    def decision(self, defs: Definitions, decision: Decision) -> Any:
        key = (defs.namespace, decision.id)
        if key in self.memo:
            return self.memo[key]
        if key in self.active:
            self.note(f"decision {decision.name!r} requires itself (a cycle in the requirements)", decision.line)
            return None
        self.active.add(key)
        try:
            scope = self.scope(defs, decision.required_decisions, decision.required_inputs, decision.required_knowledge)
            if self.variables:
                scope = {**self.inputs, **scope}
            previous, self._current = self._current, f"decision {decision.name!r}"
            boxed = self.boxed(defs)
            boxed.last_table = None
            try:
                value = boxed.evaluate(decision.expression, scope)
            except DmnProblem as problem:
                self.note(problem.message, problem.line or decision.line)
                value = None
            except RecursionError:
                self.note("the evaluation is nested too deeply (a function that calls itself without end?)",
                          decision.line)
                value = None
            except (ArithmeticError, TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
                # a value the model did not foresee: one clear line, never a traceback
                self.note(f"cannot evaluate ({type(exc).__name__}: {exc})", decision.line)
                value = None
            if isinstance(decision.expression, DecisionTable) and boxed.last_table is not None:
                self.matched[decision.id] = list(boxed.last_table.matched)
            value = boxed.coerce(value, decision.variable.type_ref, f"the result", decision.line)
            self._current = previous
        finally:
            self.active.discard(key)
        self.memo[key] = value
        if defs is self.model.main or decision.name not in self.results:
            self.results[decision.name] = value
        return value

    def input_value(self, defs: Definitions, item: InputData) -> Any:
        key = (defs.namespace, item.id)
        if key in self.memo:
            return self.memo[key]
        if (defs.namespace, item.name) in self.namespaced:
            value = self.namespaced[(defs.namespace, item.name)]
        else:
            value = self.inputs.get(item.name)
        value = self.boxed(defs).coerce(value, item.variable.type_ref, f"input {item.name!r}", item.line)
        self.memo[key] = value
        return value

    def scope(self, defs: Definitions, decisions: list[Reference], inputs: list[Reference],
              knowledge: list[Reference]) -> dict[str, Any]:
        scope: dict[str, Any] = {}
        for ref in inputs:
            other, element = self._resolve(defs, ref)
            if isinstance(element, InputData):
                self._place(scope, defs, other, element.name, self.input_value(other, element))
        for ref in decisions:
            other, element = self._resolve(defs, ref)
            if isinstance(element, Decision):
                value = self.decision(other, element)
                self._place(scope, defs, other, element.name, value)
                if self.variables and other is defs:
                    _add_output_names(scope, element, value)
        for ref in knowledge:
            other, element = self._resolve(defs, ref)
            if isinstance(element, BusinessKnowledgeModel):
                self._place(scope, defs, other, element.name, self.knowledge(other, element))
            elif isinstance(element, DecisionService):
                self._place(scope, defs, other, element.name, self.service(other, element))
        return scope

    def _resolve(self, defs: Definitions, ref: Reference) -> tuple[Definitions, DrgElement]:
        try:
            return self.model.resolve(defs, ref)
        except DmnProblem as problem:
            self.note(problem.message)
            return defs, DrgElement(ref.id, ref.id, None)  # type: ignore[arg-type]

    def _place(self, scope: dict[str, Any], defs: Definitions, other: Definitions, name: str, value: Any) -> None:
        if other is defs:
            scope[name] = value
            return
        prefix = self.model.import_name(defs, other.namespace) or other.name
        nested = dict(scope.get(prefix) or {})
        nested[name] = value
        scope[prefix] = nested

    def knowledge(self, defs: Definitions, bkm: BusinessKnowledgeModel) -> feel.FeelFunction:
        key = (defs.namespace, bkm.id)
        if key in self.memo:
            return self.memo[key]
        scope = self.scope(defs, [], [], bkm.required_knowledge)
        if bkm.logic is None:
            function = feel.FeelFunction([], lambda *args: None, bkm.name)
        else:
            result_type = bkm.variable.type_ref
            if result_type and self._is_function_type(defs, result_type):
                result_type = None
            try:
                function = self.boxed(defs).function(bkm.logic, scope, bkm.name, result_type=result_type)
            except DmnProblem as problem:
                self.note(f"business knowledge model {bkm.name!r}: {problem.message}", problem.line or bkm.line)
                function = feel.FeelFunction([p.name for p in bkm.logic.parameters], lambda *args: None, bkm.name)
        scope[bkm.name] = function       # a BKM may call itself
        self.memo[key] = function
        return function

    def _is_function_type(self, defs: Definitions, type_ref: str) -> bool:
        if type_ref.startswith("function"):
            return True
        item = self.model.resolver(defs).item(type_ref)
        return item is not None and item.function_parameters is not None

    def service(self, defs: Definitions, service: DecisionService) -> feel.FeelFunction:
        params = [self._resolve(defs, r)[1].name for r in service.input_data + service.input_decisions]

        def body(*args: Any) -> Any:
            outputs = self.invoke_service(defs, service, dict(zip(params, args)))
            return next(iter(outputs.values())) if len(outputs) == 1 else outputs

        return feel.FeelFunction(params, body, service.name)

    def invoke_service(self, defs: Definitions, service: DecisionService, args: dict[str, Any]) -> dict[str, Any]:
        """The output decisions of a decision service, its input decisions and input data taken from `args`."""
        inner = Evaluation(self.model, {}, {})
        outputs: dict[str, Any] = {}
        for ref in service.input_decisions + service.input_data:
            other, element = self._resolve(defs, ref)
            value = args.get(element.name)
            type_ref = element.variable.type_ref if element.variable is not None else None
            if value is not None and type_ref and not self.model.resolver(other).conforms(value, type_ref):
                self.note(f"decision service {service.name!r}: parameter {element.name!r} is not a {type_ref}; "
                          f"the service is not invoked")
                return {self._resolve(defs, r)[1].name: None for r in service.output_decisions}
            if isinstance(element, Decision):
                inner.memo[(other.namespace, element.id)] = value
            else:
                inner.namespaced[(other.namespace, element.name)] = value
        for ref in service.output_decisions:
            other, element = self._resolve(defs, ref)
            if isinstance(element, Decision):
                outputs[element.name] = inner.decision(other, element)
        self.errors.extend(f"decision service {service.name!r}: {e}" for e in inner.errors)
        return self._service_typed(defs, service, outputs)

    def _service_typed(self, defs: Definitions, service: DecisionService, outputs: dict[str, Any]) -> dict[str, Any]:
        """The service's own typeRef (a context of its outputs, or the type of its single output)."""
        type_ref = service.variable.type_ref
        resolver = self.model.resolver(defs)
        function_item = resolver.item(type_ref) if type_ref else None
        if function_item is not None and function_item.function_parameters is not None:
            type_ref = function_item.function_output      # a function type: its output type applies
        if not type_ref or self._is_function_type(defs, type_ref):
            return outputs
        item = resolver.item(type_ref)
        if len(outputs) == 1 and not (item is not None and item.components):
            name, value = next(iter(outputs.items()))
            return {name: self.boxed(defs).coerce(value, type_ref, f"decision service {service.name!r}")}
        if not resolver.conforms(outputs, type_ref):
            self.note(f"decision service {service.name!r}: its outputs are not a {type_ref}; they become null")
            return {name: None for name in outputs}
        return outputs


def _add_output_names(scope: dict[str, Any], decision: Decision, value: Any) -> None:
    """Camunda 7 also offers a required decision table's outputs by output name (`desiredDish`), not only the
    decision's name (docs.camunda.org: reference/dmn/drg)."""
    table = decision.expression
    if not isinstance(table, DecisionTable):
        return
    names = [o.name for o in table.outputs if o.name]
    if len(names) == 1 and len(table.outputs) == 1:
        scope.setdefault(names[0], value)
    elif isinstance(value, dict):
        for name in names:
            scope.setdefault(name, value.get(name))
