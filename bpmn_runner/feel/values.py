"""FEEL value types and the conversions between Python and FEEL values (DMN 1.5 section 10.3.2)."""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable, Mapping

#: DMN 1.5 10.3.2.3.1: numbers are IEEE 754-2008 Decimal128 (34 significant digits, half even).
DECIMAL = decimal.Context(prec=34, rounding=decimal.ROUND_HALF_EVEN, Emax=6144, Emin=-6143,
                          traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow])


@dataclass(frozen=True, slots=True, order=True)
class YearsMonthsDuration:
    """A FEEL `years and months duration`, held as a whole number of months (may be negative)."""

    months: int

    def __str__(self) -> str:
        from .temporal import format_value
        return format_value(self)


@dataclass(frozen=True, slots=True)
class Range:
    """A FEEL range; an endpoint of None is unbounded (as in the unary tests `< 10`, `>= 5`)."""

    start: Any
    end: Any
    start_included: bool = True
    end_included: bool = True
    #: how the range was written when not as an interval: "<", "<=", ">", ">=", "=", "!=" (a unary comparison
    #: such as `(< 10)`), or "null" for an interval with a null endpoint (which includes nothing: null)
    operator: str = ""

    def __str__(self) -> str:
        from .temporal import format_value
        return format_value(self)


@dataclass(eq=False, slots=True)
class FeelFunction:
    """A FEEL function value: `body` receives FEEL values and returns one.

    `required` is how many leading parameters must be given (the rest are optional); `variadic` functions
    take any number of positional arguments (min, max, sum, concatenate ...). `raw_errors` lets a built-in
    see its exceptions instead of having them turned into null (used internally).
    """

    params: list[str]
    body: Callable[..., Any]
    name: str = ""
    required: int | None = None
    variadic: bool = False
    param_types: list[str | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.required is None:
            self.required = len(self.params)

    def __repr__(self) -> str:
        return f"FeelFunction({self.name or 'anonymous'}({', '.join(self.params)}))"


def kind_of(value: Any) -> str:
    """The FEEL type name of a FEEL value ("Null" for null)."""
    if value is None:
        return "Null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, Decimal):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dt.datetime):
        return "date and time"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, dt.time):
        return "time"
    if isinstance(value, dt.timedelta):
        return "days and time duration"
    if isinstance(value, YearsMonthsDuration):
        return "years and months duration"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "context"
    if isinstance(value, Range):
        return "range"
    if isinstance(value, FeelFunction):
        return "function"
    if value.__class__.__name__ == "FarDate":
        return "date and time" if value.is_date_time else "date"
    if isinstance(value, (int, float)):
        return "number"
    return "Any"


def to_feel(value: Any) -> Any:
    """Convert a Python value to a FEEL value: int/float -> Decimal, tuples -> lists, nested values converted."""
    if value is None or isinstance(value, (bool, str, Decimal)):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return None
        return DECIMAL.create_decimal(repr(value))
    if isinstance(value, (list, tuple)):
        return [to_feel(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): to_feel(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return [to_feel(v) for v in value]
    if callable(value) and not isinstance(value, (FeelFunction, type)):
        return _python_function(value)
    return value


def _python_function(fn: Callable[..., Any]) -> FeelFunction:
    import inspect
    try:
        signature = inspect.signature(fn)
        params = [p.name for p in signature.parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        required = sum(1 for p in signature.parameters.values()
                       if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty)
    except (TypeError, ValueError):
        params, required = [], 0
    return FeelFunction(params, lambda *args: to_feel(fn(*[to_python(a) for a in args])),
                        getattr(fn, "__name__", ""), required=required)


def to_python(value: Any) -> Any:
    """A FEEL value as plain Python: whole Decimals become int, others stay Decimal; lists/contexts converted."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and value.is_finite() else value
    if isinstance(value, list):
        return [to_python(v) for v in value]
    if isinstance(value, dict):
        return {k: to_python(v) for k, v in value.items()}
    return value


def to_json(value: Any) -> Any:
    """A FEEL value as a JSON-ready value (numbers as int/float, temporal values as ISO 8601 strings)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return int(value)
        as_float = float(value)
        return as_float if Decimal(repr(as_float)) == value else str(value)
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, list):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, FeelFunction):
        return None
    from .temporal import format_value
    return format_value(value)
