"""DMN unary tests (DMN 1.5 10.3.2.9.2 and grammar rules 14-17): the input entries of decision tables."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bpmn_runner.feel import FeelSyntaxError, compile_unary_tests


@pytest.mark.parametrize("tests, value, expected", [
    ("-", 42, True),
    ("", 42, True),
    ("5", 5, True),
    ("< 10", 5, True),
    ("<= 10", 10, True),
    ("> 10", 10, False),
    ("[1..5]", 5, True),
    ("(1..5)", 5, False),
    ("]1..5]", 1, False),
    ('"Fall", "Winter", "Spring"', "Winter", True),
    ('"Fall", "Winter", "Spring"', "Summer", False),
    ("not(1, 2)", 3, True),
    ("not([1..5])", 3, False),
    ("? > 3", 5, True),
    ("? > 3 and ? < 10", 11, False),
    ("[1..5], > 10", 11, True),
    ("null", None, True),
    ("> 10", None, None),
    ('< date("2024-01-01")', dt.date(2023, 5, 1), True),
    ("true", True, True),
    ("[1, 2, 3]", 2, True),
    ("count(?) > 1", [1, 2], True),
    ("= 5", 5, True),
    ("!= 5", 5, False),
])
def test_unary_tests(tests: str, value: object, expected: object) -> None:
    """DMN 1.5 10.3.2.9.2 (unary tests): `-`, comparisons, intervals, lists of tests, not(...), and `?`."""
    assert compile_unary_tests(tests).matches(value) is expected


def test_endpoints_read_the_context() -> None:
    """An endpoint may be any expression over the evaluation context (names, arithmetic)."""
    tests = compile_unary_tests("[limit - 1 .. limit + 1]")
    assert tests.matches(Decimal(10), {"limit": Decimal(10)}) is True
    assert tests.matches(Decimal(12), {"limit": 10}) is False


def test_dash_is_any() -> None:
    assert compile_unary_tests("-").is_any and not compile_unary_tests("< 1").is_any


@pytest.mark.parametrize("text", ["< ", "[1..", "not(1", "1 2"])
def test_syntax_errors(text: str) -> None:
    """A malformed input entry is a FeelSyntaxError with a column."""
    with pytest.raises(FeelSyntaxError) as caught:
        compile_unary_tests(text)
    assert caught.value.column >= 1


@pytest.mark.parametrize("tests, value, expected", [
    ("[2 * 5..2 * 5 + 9]", 19, True), ("[2 * 5..2 * 5 + 9]", 20, False), ("> 10 - 1", 10, True),
    ("-(1 + 1)", -2, True), ("> 1 / 0", 5, None),
])
def test_computed_bounds_are_folded_with_feel_semantics(tests: str, value: int, expected: bool | None) -> None:
    """Bounds computed from literals are evaluated once when the test is compiled; null stays null."""
    assert compile_unary_tests(tests).matches(value) is expected
