"""The Expression Language's coercions (EL 3.0 section 1.23, as Camunda 7's JUEL applies them): to boolean, number
and text, and equality, comparison and arithmetic over coerced operands."""

from __future__ import annotations

import json
import math
from typing import Any

from ._problems import Problem
from .spin import describe_value


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def to_bool(value: Any) -> bool:
    """EL 1.8.5: null and "" are false, a String is Boolean.valueOf(text), anything else is an error."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.lower() == "true"
    raise Problem(f"{to_text(value)!r} is {describe_value(value)}, not a boolean (EL does not coerce numbers to booleans)")


def to_number(value: Any) -> int | float:
    if value is None or value == "":
        return 0
    if is_number(value):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            try:
                return float(text)
            except ValueError:
                pass
    raise Problem(f"{to_text(value)!r} is {describe_value(value)}, not a number")


def to_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, default=str)
    return str(value)


def equals(left: Any, right: Any) -> bool:
    if left is None or right is None:
        return left is None and right is None
    if is_number(left) or is_number(right):
        return to_number(left) == to_number(right)
    if isinstance(left, bool) or isinstance(right, bool):
        return to_bool(left) == to_bool(right)
    if isinstance(left, str) or isinstance(right, str):
        return to_text(left) == to_text(right)
    return bool(left == right)


def compare(op: str, left: Any, right: Any) -> bool:
    if left is None or right is None:
        return False
    if is_number(left) or is_number(right):
        a, b = to_number(left), to_number(right)
    elif isinstance(left, str) and isinstance(right, str):
        a, b = left, right
    else:
        raise Problem(f"cannot compare {describe_value(left)} with {describe_value(right)} using '{op}'")
    return {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]


def arithmetic(op: str, left: Any, right: Any) -> int | float:
    for value in (left, right):
        if isinstance(value, str) and not is_numeric_text(value):
            hint = " (join text with a composite like 'a ${x} b')" if op == "+" else ""
            raise Problem(f"'{op}' needs numbers, but {value!r} is text{hint}")
    a, b = to_number(left), to_number(right)
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        if isinstance(a, int) and isinstance(b, int) and a.bit_length() + b.bit_length() > 100_000:
            raise Problem("the product is too large")
        return a * b
    if b == 0:
        raise Problem("division by zero")
    if op == "/":
        return a / b  # EL divides as Double
    # EL remainder follows Java: the sign of the dividend.
    if isinstance(a, float) or isinstance(b, float):
        return math.fmod(a, b)
    remainder = abs(a) % abs(b)
    return -remainder if a < 0 else remainder


def is_numeric_text(text: str) -> bool:
    try:
        to_number(text)
        return True
    except Problem:
        return False
