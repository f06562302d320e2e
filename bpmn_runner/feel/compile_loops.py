"""Compiled iteration: `for` (with `partial`), `some` and `every` over lists, ranges and `a..b` (DMN 1.5 10.3.2.14)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Callable

from . import compiler
from . import semantics as sem
from .errors import FeelEvaluationError
from .values import Range

MAX_ITERATIONS = 1_000_000

if TYPE_CHECKING:
    from .compiler import Evaluator, Scope


def _iterate(contexts: list[Any]) -> Callable[[Scope], list[tuple[str, list[Any]]] | None]:
    """The (name, values) of each iteration context: a list, a range of integers, `a..b`, or one value."""
    compiled = [(name, compiler.compile_node(start), compiler.compile_node(end) if end is not None else None)
                for name, start, end in contexts]

    def domains(scope: Scope) -> Any:
        result = []
        for name, start, end in compiled:
            if end is None:
                values = start(scope)
                if isinstance(values, Range):
                    values = _range_values(values)
                elif not isinstance(values, list):
                    values = [values] if values is not None else None
            else:
                values = _integers(start(scope), end(scope))
            if values is None:
                return None
            result.append((name, values))
        return result
    return domains


def _range_values(r: Range) -> list[Any] | None:
    if not (isinstance(r.start, Decimal) and isinstance(r.end, Decimal)):
        return None
    values = _integers(r.start, r.end)
    if values is None:
        return None
    return [v for v in values if sem.range_includes(r, v)]


def _integers(start: Any, end: Any) -> list[Any] | None:
    if type(start) is dt.date and type(end) is dt.date:
        days = (end - start).days
        if abs(days) >= MAX_ITERATIONS:
            raise FeelEvaluationError(f"the range {start}..{end} has more than {MAX_ITERATIONS:,} days")
        step = 1 if days >= 0 else -1
        return [start + dt.timedelta(days=n) for n in range(0, days + step, step)]
    if not (isinstance(start, Decimal) and isinstance(end, Decimal)):
        return None
    if start != start.to_integral_value() or end != end.to_integral_value():
        return None
    if abs(end - start) >= MAX_ITERATIONS:
        raise FeelEvaluationError(f"the range {start}..{end} has more than {MAX_ITERATIONS:,} values")
    low, high = int(start), int(end)
    step = 1 if high >= low else -1
    return [Decimal(v) for v in range(low, high + step, step)]


def _nest(domains: list[Callable[[Scope], Any]], index: int, scope: Scope, names: dict[str, Any],
          visit: Callable[[Scope], bool], budget: list[int]) -> bool | None:
    """Nested loops over the iteration contexts; each may use the names bound before it.

    `visit` returns False to stop early; the result is None when a domain is not iterable, else whether the
    loops ran to the end."""
    found = domains[index](scope.child(names) if names else scope)
    if found is None:
        return None
    name, values = found[0]
    last = index == len(domains) - 1
    budget[0] -= len(values)
    if budget[0] < 0:
        raise FeelEvaluationError(f"the iteration goes over {MAX_ITERATIONS:,} steps")
    for value in values:
        names[name] = value
        if last:
            if not visit(scope.child(dict(names))):
                return False
        else:
            outcome = _nest(domains, index + 1, scope, names, visit, budget)
            if outcome is not True:
                return outcome
    return True


def compile_for(node: tuple[Any, ...]) -> Evaluator:
    domains = [_iterate([context]) for context in node[1]]
    body = compiler.compile_node(node[2])

    def loop(scope: Scope) -> Any:
        results: list[Any] = []

        def visit(inner: Scope) -> bool:
            inner.names["partial"] = results
            results.append(body(inner))
            return True
        return results if _nest(domains, 0, scope, {}, visit, [MAX_ITERATIONS]) is not None else None
    return loop


def compile_quantified(node: tuple[Any, ...]) -> Evaluator:
    every = node[0] == "every"
    domains = [_iterate([context]) for context in node[1]]
    condition = compiler.compile_node(node[2])

    def quantified(scope: Scope) -> Any:
        def visit(inner: Scope) -> bool:
            outcome = condition(inner)
            return outcome is True if every else outcome is not True
        finished = _nest(domains, 0, scope, {}, visit, [MAX_ITERATIONS])
        if finished is None:
            return None
        return finished if every else not finished
    return quantified
