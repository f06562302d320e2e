"""Camunda 8 FEEL (`=...`) in process diagrams: the bridge between process data and the bpmn_runner.feel package.

Values cross as plain Python: numbers come back as int (whole) or float, dates, times and durations as their
ISO 8601 strings (as Zeebe stores them in variables), lists and contexts as lists and dicts.

Strictness where a process would otherwise silently take a wrong path (FEEL itself yields null in these cases):
- a *condition* -- an expression whose outermost operator is a comparison, `in`, `between`, `and`, `or` or
  `not()` -- whose result is not `true` after reading an absent top-level variable raises MissingVariableError
  (comparing with the literal null, `x = null`, is how to test for presence and never raises);
- calling an unknown function, or a built-in with a wrong number of arguments, is an error (as in Camunda 8).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Mapping

from .. import feel
from ..feel.api import FeelExpression
from ._problems import Missing, Problem

_CONDITION_KINDS = frozenset({"cmp", "in", "between", "and", "or"})


class FeelSyntaxProblem(Problem):
    """A FEEL syntax error; `position` is the 0-based offset in the FEEL source (after the `=`)."""

    def __init__(self, error: feel.FeelSyntaxError, offset: int) -> None:
        super().__init__(f"column {error.position + offset + 1}: {error.problem}")
        self.position = error.position + offset


def parse(source: str, offset: int = 0) -> FeelExpression:
    """Compile (cached) and check the calls; raises FeelSyntaxProblem (columns shifted by `offset`) or Problem."""
    try:
        expression = feel.compile_expression(source)
    except feel.FeelSyntaxError as error:
        raise FeelSyntaxProblem(error, offset) from None
    if expression.call_problems:
        raise Problem(expression.call_problems[0])
    return expression


def evaluate(source: str, data: Mapping[str, Any], offset: int = 0) -> Any:
    expression = parse(source, offset)
    missing: list[str] = []

    def record(name: str) -> None:
        missing.append(name)
        return None
    try:
        result = expression.evaluate(data, on_missing=record)
    except feel.FeelEvaluationError as error:
        raise Problem(error.message) from None
    if missing and result is not True and _is_condition(expression) and not _compares_with_null(expression):
        raise Missing(missing[0])
    return to_plain(result)


def _root(expression: FeelExpression) -> tuple[Any, ...]:
    return expression._ast  # noqa: SLF001 -- the bridge inspects the outermost operator only


def _is_condition(expression: FeelExpression) -> bool:
    node = _root(expression)
    return node[0] in _CONDITION_KINDS or (
        node[0] == "call" and node[1] == ("name", "not") and not node[3])


def _compares_with_null(expression: FeelExpression) -> bool:
    node = _root(expression)
    return node[0] == "cmp" and node[1] in ("=", "!=") and ("lit", None) in node[2:]


def referenced_names(source: str) -> set[str]:
    return set(parse(source).variables)


def to_plain(value: Any) -> Any:
    """A FEEL value as process data: Decimal -> int or float; temporal values -> ISO 8601 strings."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return int(value)
        return float(value)
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, (dt.date, dt.time, dt.timedelta, feel.YearsMonthsDuration, feel.Range)):
        return feel.to_json(value)
    if isinstance(value, feel.FeelFunction):
        return None
    return value


def to_string(value: Any) -> str | None:
    """FEEL's string(): null stays null, booleans are lower case, whole numbers have no '.0'."""
    return feel.to_string(feel.to_feel(value))
