"""Boxed expression evaluation: literal expressions, contexts, lists, relations, invocations, functions,
conditionals, iterators and filters (DMN 1.5 chapter 10.2 and 10.3)."""

from __future__ import annotations

from typing import Any, Callable

from .. import feel
from .errors import DmnProblem
from .model import (Conditional, Context, DecisionTable, Expression, Filter, FunctionDefinition, InformationItem,
                    Invocation, Iterator, ListExpression, LiteralExpression, Relation, UnaryTests)
from .tables import TableEvaluator, TableResult
from .types import NOT_CONFORMING, TypeResolver

FEEL_LANGUAGES = ("", "feel", "https://www.omg.org/spec/dmn/20191111/feel/", "http://www.omg.org/spec/feel/20140401")


def is_feel(language: str | None) -> bool:
    lowered = (language or "").strip().lower()
    return lowered in FEEL_LANGUAGES or "/feel" in lowered


def show(value: Any) -> str:
    """A value as FEEL would print it, for messages."""
    if isinstance(value, str):
        return f'"{value}"'
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(feel.to_json(value))
    return text if len(text) <= 120 else text[:119] + "…"


def compile_literal(text: str, names: frozenset[str]) -> Any:
    try:
        return feel.compile_expression(text, names=names)
    except TypeError:  # a FEEL package without the `names` keyword
        return feel.compile_expression(text)


def call_function(function: Any, positional: list[Any] | None = None, named: dict[str, Any] | None = None) -> Any:
    """Invoke a FEEL function value with positional or named arguments (missing named ones are null)."""
    if not isinstance(function, feel.FeelFunction):
        raise DmnProblem(f"{show(function)} is not a function")
    if named is not None:
        unknown = [n for n in named if n not in function.params]
        if unknown:
            raise DmnProblem(f"function {function.name or ''} has no parameter {unknown[0]!r}")
        positional = [named.get(p) for p in function.params]
    args = list(positional or [])
    if not function.variadic and len(args) > len(function.params):
        raise DmnProblem(f"function {function.name or ''} takes {len(function.params)} arguments, not {len(args)}")
    if not function.variadic:
        args += [None] * (len(function.params) - len(args))
    return function.body(*args)


class BoxedEvaluator:
    """Evaluates the boxed expressions of one DMN definitions; `note` receives non-fatal problems."""

    def __init__(self, resolver: TypeResolver, cache: dict[Any, Any], note: Callable[[str, int], None],
                 language: str | None = None) -> None:
        self.resolver = resolver
        self.cache = cache
        self.note = note
        self.language = language
        self.tables = TableEvaluator(self)
        self.last_table: TableResult | None = None

    show = staticmethod(show)

    def instance_of(self, value: Any, type_name: str) -> bool | None:
        """`instance of` for the model's item definitions (None: not a type of this model)."""
        if self.resolver.item(type_name) is None:
            return None
        return value is not None and self.resolver.is_instance(value, type_name)

    # --- FEEL text -----------------------------------------------------------------------------------

    def literal(self, node: LiteralExpression, scope: dict[str, Any], typed: bool = True) -> Any:
        language = node.language or self.language
        if not is_feel(language):
            if (language or "").strip().lower() == "juel":
                return self._juel(node, scope)
            raise DmnProblem(f"expression language {language!r} is not supported in DMN; use FEEL (or JUEL for "
                             f"Camunda 7 expressions)", node.line)
        if not node.text.strip():
            return None            # an empty cell (e.g. an input expression left blank in the modeler)
        # only names FEEL cannot read as one plain name matter to the parser ("Applicant Age"); keying the cache
        # by those keeps it small when process variables vary from one instance to the next
        names = frozenset(k for k in scope if not k.isidentifier())
        key = (id(node), names)
        compiled = self.cache.get(key)
        if compiled is None:
            try:
                compiled = compile_literal(node.text, names)
            except feel.FeelSyntaxError as exc:
                raise DmnProblem(f"FEEL syntax error in {node.text.strip()!r}: {exc}", node.line) from None
            self.cache[key] = compiled
        try:
            value = compiled.evaluate(scope, types=self.instance_of)
        except feel.FeelEvaluationError as exc:
            raise DmnProblem(f"cannot evaluate {node.text.strip()!r}: {exc}", node.line) from None
        if typed and node.type_ref:
            value = self.coerce(value, node.type_ref, f"expression {node.text.strip()!r}", node.line)
        return value

    def _juel(self, node: LiteralExpression, scope: dict[str, Any]) -> Any:
        """A Camunda 7 JUEL expression (`expressionLanguage="juel"`): `amount * 2` or `${amount * 2}`."""
        from ..errors import ExpressionError
        from ..expressions import evaluate as evaluate_expression
        text = node.text.strip()
        source = text if "${" in text or "#{" in text else "${" + text + "}"
        try:
            return feel.to_feel(evaluate_expression(source, feel.to_python(scope)))
        except ExpressionError as exc:
            raise DmnProblem(f"cannot evaluate the JUEL expression {text!r}: {exc.message}", node.line) from None

    def unary(self, node: UnaryTests, value: Any, scope: dict[str, Any]) -> bool:
        if node.language and not is_feel(node.language):
            if node.language.strip().lower() != "juel":
                raise DmnProblem(f"expression language {node.language!r} is not supported in DMN; use FEEL",
                                 node.line)
            # Camunda 7: a JUEL input entry reads the input value as `cellInput`
            test = LiteralExpression(id=node.id, line=node.line, text=node.text, language="juel")
            return self._juel(test, {**scope, "cellInput": value}) is True
        compiled = self.compiled_unary(node)
        try:
            return compiled.matches(value, scope, types=self.instance_of) is True
        except feel.FeelEvaluationError as exc:
            raise DmnProblem(f"cannot evaluate the test {node.text.strip()!r}: {exc}", node.line) from None

    def compiled_unary(self, node: UnaryTests) -> feel.FeelUnaryTests:
        key = ("unary", id(node))
        compiled = self.cache.get(key)
        if compiled is None:
            try:
                compiled = feel.compile_unary_tests(node.text)
            except feel.FeelSyntaxError as exc:
                raise DmnProblem(f"FEEL syntax error in the test {node.text.strip()!r}: {exc}", node.line) from None
            self.cache[key] = compiled
        return compiled

    def unary_in(self, node: UnaryTests, value: Any, scope: dict[str, Any], feel_scope: Any) -> bool:
        """`unary` with the FEEL scope made once for a whole table (`feel.test_scope(scope, self.instance_of)`)."""
        if node.language and not is_feel(node.language):
            return self.unary(node, value, scope)
        try:
            return self.compiled_unary(node).matches_in(feel_scope, value) is True
        except feel.FeelEvaluationError as exc:
            raise DmnProblem(f"cannot evaluate the test {node.text.strip()!r}: {exc}", node.line) from None

    def coerce(self, value: Any, type_ref: str | None, what: str, line: int = 0) -> Any:
        converted = self.resolver.coerce(value, type_ref)
        if converted is NOT_CONFORMING:
            self.note(f"{what} is {show(value)}, which is not a {type_ref}; it becomes null", line)
            return None
        return converted

    # --- boxed expressions ---------------------------------------------------------------------------

    def evaluate(self, node: Expression | None, scope: dict[str, Any]) -> Any:
        if node is None:
            return None
        method = getattr(self, f"_{type(node).__name__}")
        return method(node, scope)

    def _LiteralExpression(self, node: LiteralExpression, scope: dict[str, Any]) -> Any:
        return self.literal(node, scope)

    def _DecisionTable(self, node: DecisionTable, scope: dict[str, Any]) -> Any:
        result = self.tables.evaluate(node, scope)
        self.last_table = result
        return result.value

    def _Context(self, node: Context, scope: dict[str, Any]) -> Any:
        local = dict(scope)
        out: dict[str, Any] = {}
        for entry in node.entries:
            if entry.variable is None:
                return self._typed(self.evaluate(entry.value, local), node)
            value = self.evaluate(entry.value, local)
            if entry.variable.type_ref and not isinstance(value, feel.FeelFunction):
                value = self.coerce(value, entry.variable.type_ref, f"context entry {entry.variable.name!r}", node.line)
            local[entry.variable.name] = value
            out[entry.variable.name] = value
        return self._typed(out, node)

    def _ListExpression(self, node: ListExpression, scope: dict[str, Any]) -> Any:
        return self._typed([self.evaluate(item, scope) for item in node.items], node)

    def _Relation(self, node: Relation, scope: dict[str, Any]) -> Any:
        rows = []
        for row in node.rows:
            if len(row) != len(node.columns):
                raise DmnProblem(f"a relation row has {len(row)} cells for {len(node.columns)} columns", node.line)
            rows.append({column.name: self._column(column, self.evaluate(cell, scope), node.line)
                         for column, cell in zip(node.columns, row)})
        return self._typed(rows, node)

    def _column(self, column: InformationItem, value: Any, line: int) -> Any:
        return self.coerce(value, column.type_ref, f"column {column.name!r}", line) if column.type_ref else value

    def _Invocation(self, node: Invocation, scope: dict[str, Any]) -> Any:
        function = self._callee(node, scope)
        named = {}
        for binding in node.bindings:
            value = self.evaluate(binding.value, scope)
            if binding.parameter.type_ref:
                value = self.coerce(value, binding.parameter.type_ref, f"parameter {binding.parameter.name!r}",
                                    node.line)
            named[binding.parameter.name] = value
        value = call_function(function, named=named)
        if node.type_ref and value is not None and \
                self.resolver.coerce_strict(value, node.type_ref) is NOT_CONFORMING:
            self.note(f"the invocation result is {show(value)}, which is not a {node.type_ref}; it becomes null",
                      node.line)
            return None
        return self._typed(value, node)

    def _callee(self, node: Invocation, scope: dict[str, Any]) -> Any:
        if isinstance(node.callee, LiteralExpression):
            name = node.callee.text.strip()
            if name in scope:
                return scope[name]
        function = self.evaluate(node.callee, scope)
        if not isinstance(function, feel.FeelFunction):
            callee = node.callee.text.strip() if isinstance(node.callee, LiteralExpression) else "the callee"
            raise DmnProblem(f"invocation of {callee!r}, which is not a known function", node.line)
        return function

    def _FunctionDefinition(self, node: FunctionDefinition, scope: dict[str, Any]) -> Any:
        return self.function(node, scope, name="")

    def function(self, node: FunctionDefinition, scope: dict[str, Any], name: str,
                 result_type: str | None = None) -> feel.FeelFunction:
        """A FEEL function value closing over `scope` (which may still grow: recursion through a context)."""
        kind = (node.kind or "FEEL").upper()
        if kind != "FEEL":
            raise DmnProblem(f"{node.kind} functions (external Java or PMML calls) are not supported; write the "
                             f"function body in FEEL", node.line)
        params = node.parameters
        output_type = node.type_ref or result_type

        def body(*args: Any) -> Any:
            local = dict(scope)
            for param, arg in zip(params, args):
                if param.type_ref and arg is not None:
                    converted = self.resolver.coerce(arg, param.type_ref)
                    if converted is NOT_CONFORMING:
                        self.note(f"function {name or ''} parameter {param.name!r} is {show(arg)}, which is not a "
                                  f"{param.type_ref}", node.line)
                        return None
                    arg = converted
                local[param.name] = arg
            value = self.evaluate(node.body, local)
            if output_type:
                value = self.coerce(value, output_type, f"the result of {name or 'the function'}", node.line)
            return value

        return feel.FeelFunction([p.name for p in params], body, name,
                                 param_types=[p.type_ref for p in params])

    def _Conditional(self, node: Conditional, scope: dict[str, Any]) -> Any:
        condition = self.evaluate(node.condition, scope)
        if condition is not None and not isinstance(condition, bool):
            raise DmnProblem(f"the condition is {show(condition)}, not a boolean", node.line)
        branch = node.then if condition is True else node.otherwise
        return self._typed(self.evaluate(branch, scope), node)

    def _Iterator(self, node: Iterator, scope: dict[str, Any]) -> Any:
        source = self.evaluate(node.source, scope)
        if source is None:
            return None
        items = source if isinstance(source, list) else [source]
        results = [self.evaluate(node.body, {**scope, node.variable: item}) for item in items]
        if node.kind != "for" and any(r is not None and not isinstance(r, bool) for r in results):
            raise DmnProblem(f"{node.kind}: the satisfies expression gives a value that is not a boolean", node.line)
        if node.kind == "for":
            return self._typed(results, node)
        if node.kind == "some":
            return True if any(r is True for r in results) else (False if all(r is False for r in results) else None)
        return False if any(r is False for r in results) else (True if all(r is True for r in results) else None)

    def _Filter(self, node: Filter, scope: dict[str, Any]) -> Any:
        source = self.evaluate(node.source, scope)
        if source is None:
            return None
        items = source if isinstance(source, list) else [source]
        kept = []
        for item in items:
            local = {**scope, **item, "item": item} if isinstance(item, dict) else {**scope, "item": item}
            matched = self.evaluate(node.match, local)
            if matched is not None and not isinstance(matched, bool):
                raise DmnProblem(f"filter: the match expression gives {show(matched)}, not a boolean", node.line)
            if matched is True:
                kept.append(item)
        return self._typed(kept, node)

    def _typed(self, value: Any, node: Any) -> Any:
        if node.type_ref:
            return self.coerce(value, node.type_ref, type(node).__name__.lower(), node.line)
        return value
