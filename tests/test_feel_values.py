"""FEEL values across the Python boundary: to_feel, to_json, conforms (the FEEL-API contract)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bpmn_runner.feel import FeelFunction, Range, YearsMonthsDuration, conforms, evaluate, to_feel, to_json


def test_python_inputs_become_feel_values() -> None:
    """int/float become Decimal (floats by their shortest repr), tuples become lists, nested values converted."""
    assert to_feel({"a": 1, "b": [0.1, (2,)]}) == {"a": Decimal(1), "b": [Decimal("0.1"), [Decimal(2)]]}
    assert evaluate("x + 0.2", {"x": 0.1}) == Decimal("0.3")


def test_python_callables_are_feel_functions() -> None:
    function = to_feel(lambda a, b=2: a * b)
    assert isinstance(function, FeelFunction)
    assert evaluate("f(3)", {"f": lambda a, b=2: a * b}) == 6


@pytest.mark.parametrize("value, expected", [
    (Decimal("2.0"), 2), (Decimal("0.5"), 0.5), (Decimal("0.1234567890123456789"), "0.1234567890123456789"),
    (dt.date(2024, 1, 2), "2024-01-02"), (dt.timedelta(hours=36), "P1DT12H"), (YearsMonthsDuration(-14), "-P1Y2M"),
    ({"a": [Decimal(1), None]}, {"a": [1, None]}), (Range(Decimal(1), Decimal(5), True, False), "[1..5)"),
    (FeelFunction([], lambda: None), None),
])
def test_to_json(value: object, expected: object) -> None:
    """FEEL values as JSON: numbers exact as JSON allows (else a string), temporal values as ISO 8601."""
    assert to_json(value) == expected


@pytest.mark.parametrize("value, type_name, expected", [
    (Decimal(1), "number", True), ("a", "string", True), (dt.datetime(2024, 1, 1), "date", False),
    (dt.datetime(2024, 1, 1), "date and time", True), (dt.timedelta(1), "days and time duration", True),
    ([Decimal(1), None], "list<number>", True), ({"a": "x"}, "context<a: string>", True),
    ({"a": "x"}, "context<b: string>", False), (None, "Any", False), (Decimal(1), "Any", True),
])
def test_conforms(value: object, type_name: str, expected: bool) -> None:
    """DMN 1.5 10.3.2.9.4 type conformance, for the DMN layer's typeRef checks."""
    assert conforms(value, type_name) is expected
