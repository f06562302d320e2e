"""Turn a FEEL AST into nested Python closures, so a parsed expression evaluates without re-walking the tree."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable, Mapping

from . import semantics as sem
from .errors import FeelEvaluationError
from .functions import call_function, lookup_builtin
from .temporal import property_of
from .types import conforms
from .values import DECIMAL, FeelFunction, Range, to_feel

Evaluator = Callable[["Scope"], Any]
_MISSING = object()
_FAST = (Decimal, str, bool, type(None))


class Scope:
    """A chain of name tables; the root converts plain Python values to FEEL values as they are read."""

    __slots__ = ("names", "parent", "missing", "types", "converted", "fields")

    def __init__(self, names: Mapping[str, Any], parent: "Scope | None" = None,
                 missing: Callable[[str], Any] | None = None,
                 types: Callable[[Any, str], bool | None] | None = None) -> None:
        self.names = names
        self.parent = parent
        self.missing = missing
        self.types = parent.types if parent is not None else types
        self.converted: dict[str, Any] | None = None  # root only: each list or dict is converted once
        # inside a filter over contexts, a bare name is mostly a field of the item: absent means null, and the
        # caller's `missing` hook is not consulted
        self.fields = parent.fields if parent is not None else False

    def lookup(self, name: str) -> Any:
        scope: Scope | None = self
        while scope is not None:
            value = scope.names.get(name, _MISSING)
            if value is not _MISSING:
                if scope.parent is None and not isinstance(value, _FAST):
                    if isinstance(value, (list, dict, tuple)):
                        return scope._converted(name, value)
                    return to_feel(value)
                return value
            last = scope
            scope = scope.parent
        builtin = lookup_builtin(name)
        if builtin is not None:
            return builtin
        if last.missing is not None and not self.fields:
            return last.missing(name)
        return None

    def _converted(self, name: str, value: Any) -> Any:
        if self.converted is None:
            self.converted = {}
        found = self.converted.get(name, _MISSING)
        if found is _MISSING:
            found = self.converted[name] = to_feel(value)
        return found

    def child(self, names: Mapping[str, Any]) -> "Scope":
        return Scope(names, self)


def compile_node(node: tuple[Any, ...]) -> Evaluator:
    return _COMPILERS[node[0]](node)


def _literal(node: tuple[Any, ...]) -> Evaluator:
    value = node[1]
    return lambda scope: value


def _name(node: tuple[Any, ...]) -> Evaluator:
    name = node[1]
    return lambda scope: scope.lookup(name)


def _negate(node: tuple[Any, ...]) -> Evaluator:
    operand = compile_node(node[1])
    return lambda scope: sem.negate(operand(scope))


def _guard(fn: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def safe(a: Any, b: Any) -> Any:
        try:
            return fn(a, b)
        except (ArithmeticError, TypeError, ValueError, OverflowError):
            return None
    return safe


def _arithmetic(node: tuple[Any, ...]) -> Evaluator:
    op = _guard(sem.ARITHMETIC[node[1]])
    left, right = compile_node(node[2]), compile_node(node[3])
    return lambda scope: op(left(scope), right(scope))


def _comparison(node: tuple[Any, ...]) -> Evaluator:
    op = node[1]
    left, right = compile_node(node[2]), compile_node(node[3])
    if op == "=":
        def eq(scope: Scope) -> Any:
            a, b = left(scope), right(scope)
            if a.__class__ is b.__class__ and a.__class__ in (Decimal, str, bool):
                return a == b
            return sem.equal(a, b)
        return eq
    if op == "!=":
        def ne(scope: Scope) -> Any:
            same = sem.equal(left(scope), right(scope))
            return None if same is None else not same
        return ne
    test = {"<": lambda o: o < 0, "<=": lambda o: o <= 0, ">": lambda o: o > 0, ">=": lambda o: o >= 0}[op]

    def ordered(scope: Scope) -> Any:
        a, b = left(scope), right(scope)
        if a.__class__ is Decimal and b.__class__ is Decimal:
            order = (a > b) - (a < b)
        else:
            order = sem.compare(a, b)
            if order is None:
                return None
        return test(order)
    return ordered


def _and(node: tuple[Any, ...]) -> Evaluator:
    left, right = compile_node(node[1]), compile_node(node[2])

    def conjunction(scope: Scope) -> Any:
        a = left(scope)
        if a is False:
            return False
        b = right(scope)
        if b is False:
            return False
        return True if a is True and b is True else None
    return conjunction


def _or(node: tuple[Any, ...]) -> Evaluator:
    left, right = compile_node(node[1]), compile_node(node[2])

    def disjunction(scope: Scope) -> Any:
        a = left(scope)
        if a is True:
            return True
        b = right(scope)
        if b is True:
            return True
        return False if a is False and b is False else None
    return disjunction


def _between(node: tuple[Any, ...]) -> Evaluator:
    value, low, high = (compile_node(n) for n in node[1:])

    def between(scope: Scope) -> Any:
        x = value(scope)
        above, below = sem.compare(low(scope), x), sem.compare(x, high(scope))
        if above is None or below is None:
            return None
        return above <= 0 and below <= 0
    return between

def _in(node: tuple[Any, ...]) -> Evaluator:
    from .compile_tests import compile_tests
    value = compile_node(node[1])
    tests = compile_tests(node[2])
    return lambda scope: tests(scope, value(scope))


def _instance(node: tuple[Any, ...]) -> Evaluator:
    value, type_name = compile_node(node[1]), node[2]
    return lambda scope: conforms(value(scope), type_name, scope.types)


def _if(node: tuple[Any, ...]) -> Evaluator:
    condition, then, otherwise = (compile_node(n) for n in node[1:])
    return lambda scope: then(scope) if condition(scope) is True else otherwise(scope)


def _list(node: tuple[Any, ...]) -> Evaluator:
    items = [compile_node(n) for n in node[1]]
    return lambda scope: [item(scope) for item in items]


def _context(node: tuple[Any, ...]) -> Evaluator:
    entries = [(key, compile_node(n)) for key, n in node[1]]

    def context(scope: Scope) -> Any:
        result: dict[str, Any] = {}
        inner = scope.child(result)
        for key, entry in entries:
            if key in result:
                return None
            result[key] = entry(inner)
        return result
    return context


def _range(node: tuple[Any, ...]) -> Evaluator:
    start, end = compile_node(node[1]), compile_node(node[2])
    start_included, end_included = node[3], node[4]

    def make(scope: Scope) -> Any:
        low, high = start(scope), end(scope)
        if low is None or high is None:
            if low is None and high is None:
                return None
            return Range(low, high, start_included, end_included, "null")
        order = sem.compare(low, high)
        if order is None or order > 0:
            return None
        return Range(low, high, start_included, end_included)
    return make


def _comparison_range(node: tuple[Any, ...]) -> Evaluator:
    """`(< 10)`, `(= 5)`, `(!= 5)`: a unary comparison written as a range value."""
    op, endpoint = node[1], compile_node(node[2])

    def make(scope: Scope) -> Any:
        value = endpoint(scope)
        if value is None:
            return None
        if op in ("<", "<="):
            return Range(None, value, False, op == "<=", op)
        if op in (">", ">="):
            return Range(value, None, op == ">=", False, op)
        return Range(value, value, True, True, op)
    return make


def _path(node: tuple[Any, ...]) -> Evaluator:
    target, name = compile_node(node[1]), node[2]

    def path(scope: Scope) -> Any:
        return select(target(scope), name)
    return path


def select(value: Any, name: str) -> Any:
    if isinstance(value, dict):
        return value.get(name)
    if isinstance(value, list):
        return [select(item, name) for item in value]
    if value is None:
        return None
    return property_of(value, name)


def _filter(node: tuple[Any, ...]) -> Evaluator:
    target, condition = compile_node(node[1]), compile_node(node[2])
    literal_index = node[2][1] if node[2][0] == "lit" and isinstance(node[2][1], Decimal) else None

    def filtered(scope: Scope) -> Any:
        items = target(scope)
        if items is None:
            return None
        if not isinstance(items, list):
            items = [items]
        if literal_index is not None:
            return _index(items, literal_index)
        result = []
        for position, item in enumerate(items):
            names = {"item": item}
            inner = scope.child(names)
            if isinstance(item, dict):
                names.update(item)
                inner.fields = True
            outcome = condition(inner)
            if isinstance(outcome, Decimal) and not isinstance(outcome, bool):
                return _index(items, outcome) if position == 0 else None
            if outcome is True:
                result.append(item)
        return result
    return filtered


def _index(items: list[Any], index: Decimal) -> Any:
    if index != index.to_integral_value():
        return None
    position = int(index)
    if position > 0 and position <= len(items):
        return items[position - 1]
    if position < 0 and -position <= len(items):
        return items[position]
    return None


def _call(node: tuple[Any, ...]) -> Evaluator:
    callee = compile_node(node[1])
    positional = [compile_node(n) for n in node[2]]
    named = [(key, compile_node(n)) for key, n in node[3]] if node[3] is not None else None
    if named is None:
        def call(scope: Scope) -> Any:
            function = callee(scope)
            return call_function(function, [arg(scope) for arg in positional], None)
        return call

    def call_named(scope: Scope) -> Any:
        return call_function(callee(scope), [], {key: arg(scope) for key, arg in named})
    return call_named

def _function(node: tuple[Any, ...]) -> Evaluator:
    params, body_node, external = node[1], node[2], node[3]
    names = [name for name, _ in params]
    types = [type_name for _, type_name in params]
    if external:
        def refuse(scope: Scope) -> Any:
            raise FeelEvaluationError("FEEL external functions (Java or PMML) are not supported: "
                                      "call a Python handler from the process instead")
        return refuse
    body = compile_node(body_node)

    def define(scope: Scope) -> Any:
        def invoke(*args: Any) -> Any:
            for value, type_name in zip(args, types):
                if type_name is not None and value is not None and not conforms(value, type_name):
                    return None
            return body(scope.child(dict(zip(names, args))))
        return FeelFunction(names, invoke, "", required=len(names), param_types=types)
    return define



def _for(node: tuple[Any, ...]) -> Evaluator:
    from .compile_loops import compile_for  # the loop and test compilers build on compile_node
    return compile_for(node)


def _quantified(node: tuple[Any, ...]) -> Evaluator:
    from .compile_loops import compile_quantified
    return compile_quantified(node)


_COMPILERS: dict[str, Callable[[tuple[Any, ...]], Evaluator]] = {
    "lit": _literal, "name": _name, "neg": _negate, "arith": _arithmetic, "cmp": _comparison, "and": _and,
    "or": _or, "between": _between, "in": _in, "instance": _instance, "if": _if, "list": _list,
    "context": _context, "range": _range, "cmp_range": _comparison_range, "path": _path, "filter": _filter, "call": _call, "for": _for,
    "some": _quantified, "every": _quantified, "function": _function,
}

__all__ = ["Scope", "compile_node", "DECIMAL"]
