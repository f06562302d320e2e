"""FEEL built-ins on numbers (DMN 1.5 10.3.4.5), plus Camunda's `random number`."""

from __future__ import annotations

import datetime as dt
import decimal
import random
from decimal import Decimal
from typing import Any

from .functions import builtin
from .values import DECIMAL, YearsMonthsDuration

_MIN_SCALE, _MAX_SCALE = -6111, 6176


def _number(value: Any) -> Decimal:
    if not isinstance(value, Decimal) or isinstance(value, bool):
        raise TypeError("not a number")
    return value


def _scale(value: Any) -> int:
    scale = int(_number(value))
    if not _MIN_SCALE <= scale <= _MAX_SCALE:
        raise ValueError("scale out of range")
    return scale


def _rounded(value: Any, scale: Any, rounding: str) -> Decimal:
    number = _number(value)
    exponent = Decimal(1).scaleb(-_scale(scale))
    result = number.quantize(exponent, rounding=rounding, context=decimal.Context(prec=10000))
    return DECIMAL.plus(result) if result.adjusted() < 34 else result


@builtin("decimal", "n, scale")
def _decimal(value: Any, scale: Any) -> Any:
    return _rounded(value, scale, decimal.ROUND_HALF_EVEN)


@builtin("floor", "n, scale", required=1)
def _floor(value: Any, scale: Any = Decimal(0)) -> Any:
    return _rounded(value, scale, decimal.ROUND_FLOOR)


@builtin("ceiling", "n, scale", required=1)
def _ceiling(value: Any, scale: Any = Decimal(0)) -> Any:
    return _rounded(value, scale, decimal.ROUND_CEILING)


@builtin("round up", "n, scale", required=1)
def _round_up(value: Any, scale: Any = Decimal(0)) -> Any:
    return _rounded(value, scale, decimal.ROUND_UP)


@builtin("round down", "n, scale", required=1)
def _round_down(value: Any, scale: Any = Decimal(0)) -> Any:
    return _rounded(value, scale, decimal.ROUND_DOWN)


@builtin("round half up", "n, scale", required=1)
def _round_half_up(value: Any, scale: Any = Decimal(0)) -> Any:
    return _rounded(value, scale, decimal.ROUND_HALF_UP)


@builtin("round half down", "n, scale", required=1)
def _round_half_down(value: Any, scale: Any = Decimal(0)) -> Any:
    return _rounded(value, scale, decimal.ROUND_HALF_DOWN)


@builtin("abs", "n")
def _abs(value: Any) -> Any:
    if isinstance(value, dt.timedelta):
        return abs(value)
    if isinstance(value, YearsMonthsDuration):
        return YearsMonthsDuration(abs(value.months))
    return DECIMAL.abs(_number(value))


@builtin("modulo", "dividend, divisor")
def _modulo(dividend: Any, divisor: Any) -> Any:
    a, b = _number(dividend), _number(divisor)
    if b == 0:
        return None
    quotient = DECIMAL.divide(a, b).to_integral_value(rounding=decimal.ROUND_FLOOR)
    return DECIMAL.subtract(a, DECIMAL.multiply(b, quotient))


@builtin("sqrt", "number")
def _sqrt(value: Any) -> Any:
    number = _number(value)
    return None if number < 0 else DECIMAL.sqrt(number)


@builtin("log", "number")
def _log(value: Any) -> Any:
    number = _number(value)
    return None if number <= 0 else DECIMAL.ln(number)


@builtin("exp", "number")
def _exp(value: Any) -> Any:
    return DECIMAL.exp(_number(value))


def _whole(value: Any) -> int:
    number = _number(value)
    if number != number.to_integral_value():
        raise ValueError("not a whole number")
    return int(number)


@builtin("odd", "number")
def _odd(value: Any) -> Any:
    return _whole(value) % 2 == 1


@builtin("even", "number")
def _even(value: Any) -> Any:
    return _whole(value) % 2 == 0


@builtin("random number")
def _random_number() -> Any:
    return DECIMAL.create_decimal(repr(random.random()))
