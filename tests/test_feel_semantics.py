"""FEEL semantics (DMN 1.5 10.3.2): decimals, null and three-valued logic, equality, iteration, filters, paths."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bpmn_runner.feel import FeelEvaluationError, FeelFunction, Range, compile_expression, evaluate


@pytest.mark.parametrize("text, expected", [
    ("0.1 + 0.2 = 0.3", True),
    ("1 / 3", Decimal("0.3333333333333333333333333333333333")),
    ("10 / 4", Decimal("2.5")),
    ("2 ** 10", Decimal(1024)),
    ("-(3)", Decimal(-3)),
    ("1 / 0", None),
    ('1 + "a"', None),
    ('"a" + "b"', "ab"),
    ("2 ** 1000000", None),
])
def test_numbers_are_decimals(text: str, expected: object) -> None:
    """DMN 1.5 10.3.2.3.1 number: decimal128 (34 significant digits); an invalid operation gives null."""
    assert evaluate(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("true and null", None), ("false and null", False), ("null and false", False),
    ("true or null", True), ("false or null", None), ('1 and true', None),
    ("not(null)", None), ("not(1)", None),
])
def test_three_valued_logic(text: str, expected: object) -> None:
    """DMN 1.5 10.3.2.5 Table 54 (semantics of conjunction and disjunction): null and non-booleans are unknown."""
    assert evaluate(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("null = null", True), ("1 = null", False), ('1 = "1"', None), ("[1, 2] = [1, 2]", True),
    ("{a: 1, b: 2} = {b: 2, a: 1}", True), ("1 != 2", True), ("1 < null", None), ('"a" < "b"', True),
    ('date("2020-01-01") < date("2020-01-02")', True), ("true < false", None),
])
def test_equality_and_ordering(text: str, expected: object) -> None:
    """DMN 1.5 10.3.2.9.1 (equality, identity and equivalence) and Table 53 (comparison): other types give null."""
    assert evaluate(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("for i in 1..3 return i * 2", [2, 4, 6]),
    ("for i in 3..1 return i", [3, 2, 1]),
    ("for i in [1, 2], j in [10, 20] return i + j", [11, 21, 12, 22]),
    ("for i in 1..2, j in i..2 return [i, j]", [[1, 1], [1, 2], [2, 2]]),
    ("for i in 0..4 return if i = 0 then 1 else i * partial[-1]", [1, 1, 2, 6, 24]),
    ("some x in [1, 5] satisfies x > 4", True),
    ("every x in [1, 5] satisfies x > 4", False),
    ("every x in [] satisfies x > 4", True),
    ("some x in [1, 2], y in [2, 3] satisfies x = y", True),
])
def test_iteration(text: str, expected: object) -> None:
    """DMN 1.5 10.3.2.14 (for, some, every): several iteration contexts, ranges `1..3`, and `partial`."""
    assert evaluate(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("[1, 2, 3][item > 1]", [2, 3]),
    ("[1, 2, 3][1]", 1),
    ("[1, 2, 3][-1]", 3),
    ("[1, 2, 3][4]", None),
    ("[{a: 1}, {a: 2}][a > 1]", [{"a": 2}]),
    ("[{item: 1}, {item: 2}][item >= 2]", [{"item": 2}]),
    ("true[1]", True),
    ("[{a: 1}, {a: 2}].a", [1, 2]),
    ("{a: {b: 3}}.a.b", 3),
    ("{a: 1}.missing", None),
])
def test_filters_and_paths(text: str, expected: object) -> None:
    """DMN 1.5 10.3.2.5 (filter: boolean and numeric, negative index, `item`) and 10.3.2.7 (path on lists)."""
    assert evaluate(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("5 between 1 and 10", True), ("5 in [1..5)", False), ("5 in (1, 5, 7)", True), ("5 in <= 5", True),
    ("5 in [[1..2], [4..6]]", True), ("5 in (null..10]", None), ("10 in (=10)", True), ("10 in (!= 10)", False),
])
def test_between_and_in(text: str, expected: object) -> None:
    """DMN 1.5 10.3.2.9.3 (between) and Table 61 (in): ranges, lists of tests, unary comparisons."""
    assert evaluate(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("1 instance of number", True), ('"a" instance of number', False), ("null instance of Any", False),
    ("[1, 2] instance of list<number>", True), ('[1, "a"] instance of list<number>', False),
    ("{a: 1} instance of context<a: number>", True), ("(function(a) a) instance of function<Any> -> Any", True),
    ('@"P1Y" instance of years and months duration', True), ('date("2020-01-01") instance of date and time', False),
    ("[1..2] instance of range<number>", True),
])
def test_instance_of(text: str, expected: object) -> None:
    """DMN 1.5 10.3.2.9.4 (type conformance) and 10.3.2.15 (instance of)."""
    assert evaluate(text) == expected


def test_ranges_are_values() -> None:
    """DMN 1.5 10.3.2.3.8 range: endpoints and inclusion are properties; `]1..5[` is an open range."""
    assert evaluate("]1..5[") == Range(Decimal(1), Decimal(5), False, False)
    assert evaluate("[1..5].start included") is True
    assert evaluate("[5..1]") is None


def test_user_defined_and_recursive_functions() -> None:
    """DMN 1.5 10.3.2.13 (functions): user-defined, typed parameters, recursion through a context entry."""
    assert evaluate("(function(a, b) a * b)(3, 4)") == 12
    assert evaluate("(function(a: number) a)(\"x\")") is None
    assert evaluate("{fac: function(n) if n <= 1 then 1 else n * fac(n - 1), r: fac(5)}.r") == 120


def test_context_functions_are_invocable_with_named_arguments() -> None:
    """FEEL-API contract: a FeelFunction in the context is called with positional or named arguments."""
    add = FeelFunction(["a", "b"], lambda a, b: a + b, "add")
    assert evaluate("add(1, 2) + add(b: 10, a: 20)", {"add": add}) == 33


def test_external_functions_are_refused_clearly() -> None:
    """DMN 1.5 10.3.2.13.3 (externally defined functions): not supported here, with a clear error."""
    with pytest.raises(FeelEvaluationError, match="external functions"):
        evaluate('function(x) external {java: {class: "java.lang.Math", method signature: "abs(double)"}}')


def test_missing_names_are_null_or_ask_the_caller() -> None:
    """DMN 1.5 10.3.2.2: an unknown name is null; `on_missing` lets a caller supply or record it."""
    expr = compile_expression("ghost + 1")
    assert expr.evaluate({}) is None
    assert expr.evaluate({}, on_missing=lambda name: Decimal(1)) == 2


def test_item_definition_types_through_the_resolver() -> None:
    """`instance of` an item definition asks the `types` resolver (the DMN layer knows its item definitions)."""
    expr = compile_expression("x instance of tPositive")
    assert expr.evaluate({"x": 3}, types=lambda value, name: name == "tPositive" and value > 0) is True
    assert expr.evaluate({"x": 3}) is False
