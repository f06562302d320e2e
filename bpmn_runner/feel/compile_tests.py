"""Compiled DMN unary tests: comparisons, intervals, values and `?` expressions, with constant folding."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, Callable

from . import semantics as sem
from . import compiler
from .values import Range

if TYPE_CHECKING:
    from .compiler import Scope


def constant(node: tuple[Any, ...]) -> tuple[bool, Any]:
    """(True, value) when the node's value does not depend on names: literals, arithmetic on them, and
    ranges/lists of literals (`[i * 10..i * 10 + 9]` written out by a generator is folded once)."""
    kind = node[0]
    if kind == "lit":
        return True, node[1]
    if kind in ("range", "cmp_range", "neg", "arith") or (kind == "list" and all(n[0] == "lit" for n in node[1])):
        children = [n for n in (node[1:] if kind != "list" else node[1]) if isinstance(n, tuple)]
        if all(constant(child)[0] for child in children):
            return True, compiler.compile_node(node)(compiler.Scope({}))
    return False, None


def _fast_compare(op: str, bound: Any) -> Callable[[Scope, Any], Any]:
    check = {"<": lambda o: o < 0, "<=": lambda o: o <= 0, ">": lambda o: o > 0, ">=": lambda o: o >= 0}[op]
    if isinstance(bound, Decimal):
        if op == "<":
            return lambda scope, v: v < bound if v.__class__ is Decimal else _slow(v, bound, check)
        if op == "<=":
            return lambda scope, v: v <= bound if v.__class__ is Decimal else _slow(v, bound, check)
        if op == ">":
            return lambda scope, v: v > bound if v.__class__ is Decimal else _slow(v, bound, check)
        return lambda scope, v: v >= bound if v.__class__ is Decimal else _slow(v, bound, check)
    return lambda scope, v: _slow(v, bound, check)


def _slow(value: Any, bound: Any, check: Callable[[int], bool]) -> Any:
    order = sem.compare(value, bound)
    return None if order is None else check(order)


def compile_test(node: tuple[Any, ...]) -> Callable[[Scope, Any], Any]:
    """A positive unary test as a function of (scope, input value) -> bool or None."""
    kind = node[0]
    if kind == "ut_cmp" and node[1] not in ("=", "!="):
        fixed, bound = constant(node[2])
        if fixed:
            return _fast_compare(node[1], bound)
    if kind == "ut_expr" and not node[2]:
        fixed, value = constant(node[1])
        if fixed:
            if isinstance(value, Range):
                return lambda scope, v: sem.range_includes(value, v)
            if isinstance(value, (Decimal, str)):
                return lambda scope, v: v == value if v.__class__ is value.__class__ else sem.test_matches(value, v)
            return lambda scope, v: sem.test_matches(value, v)
    if kind == "ut_cmp":
        op, endpoint = node[1], compiler.compile_node(node[2])
        if op == "=":
            return lambda scope, value: sem.equal(value, endpoint(scope))
        if op == "!=":
            def not_equal(scope: Scope, value: Any) -> Any:
                same = sem.equal(value, endpoint(scope))
                return None if same is None else not same
            return not_equal
        check = {"<": lambda o: o < 0, "<=": lambda o: o <= 0, ">": lambda o: o > 0, ">=": lambda o: o >= 0}[op]

        def compared(scope: Scope, value: Any) -> Any:
            order = sem.compare(value, endpoint(scope))
            return None if order is None else check(order)
        return compared
    if kind == "ut_expr":
        expr, uses_input = compiler.compile_node(node[1]), node[2]
        if uses_input:
            def with_input(scope: Scope, value: Any) -> Any:
                result = expr(scope.child({"?": value}))
                if isinstance(result, bool):
                    return result
                return sem.test_matches(result, value)
            return with_input
        return lambda scope, value: sem.test_matches(expr(scope.child({"?": value})), value)
    raise AssertionError(kind)


def compile_tests(nodes: list[tuple[Any, ...]]) -> Callable[[Scope, Any], Any]:
    tests = [compile_test(n) for n in nodes]
    if len(tests) == 1:
        return tests[0]

    def any_test(scope: Scope, value: Any) -> Any:
        result: Any = False
        for test in tests:
            outcome = test(scope, value)
            if outcome is True:
                return True
            if outcome is None:
                result = None
        return result
    return any_test
