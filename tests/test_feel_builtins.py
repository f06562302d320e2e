"""FEEL built-in functions (DMN 1.5 10.3.4) with positional and named parameters, and Camunda 8's extensions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bpmn_runner.feel import evaluate


@pytest.mark.parametrize("text, expected", [
    ('number("1 000,5", " ", ",")', Decimal("1000.5")),
    ('number(from: "12")', 12),
    ('number("1,000.5", ",", ",")', None),
    ("string(1.10)", "1.1"),
    ("string(true)", "true"),
    ("string([1, \"a\"])", '[1, "a"]'),
    ("not(false)", True),
])
def test_conversion_and_boolean(text: str, expected: object) -> None:
    """DMN 1.5 10.3.4.1 conversion functions (number with grouping/decimal separators, string) and 10.3.4.2 not."""
    assert evaluate(text) == expected


@pytest.mark.parametrize("text, expected", [
    ('substring("foobar", 3)', "obar"), ('substring("foobar", -2, 1)', "a"),
    ('substring(string: "foobar", start position: 2, length: 3)', "oob"),
    ('string length("\U0001F40Eab")', 3), ('upper case("aBc")', "ABC"), ('lower case("aBc")', "abc"),
    ('substring before("foobar", "bar")', "foo"), ('substring after("foobar", "ob")', "ar"),
    ('replace("abcd", "(ab)|(a)", "[1=$1][2=$2]")', "[1=ab][2=]cd"), ('replace("Abc", "b", "X", "i")', "AXc"),
    ('contains("foobar", "of")', False), ('starts with("foobar", "fo")', True), ('ends with("foobar", "r")', True),
    ('matches("abc", "^A", "i")', True), ('matches("a.c", "a.c", "q")', True), ('matches("x", "[")', None),
    ('split("a,b;c", "[,;]")', ["a", "b", "c"]), ('string join(["a", null, "c"], "-")', "a-c"),
    ('string join(["a"], ",", "[", "]")', "[a]"),
    ('extract("a1b22", "[0-9]+")', ["1", "22"]), ('trim("  a ")', "a"), ('is blank(" ")', True),
    ('to base64("FEEL")', "RkVFTA=="),
])
def test_string_functions(text: str, expected: object) -> None:
    """DMN 1.5 10.3.4.3 string functions (XPath regular expressions and flags) and Camunda 8's string extras."""
    assert evaluate(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("list contains([1, null], null)", True), ("count([1, 2])", 2), ("min([3, 1, 2])", 1), ("max(3, 1, 2)", 3),
    ("sum([1, 2, 3])", 6), ("mean([1, 2, 3, 4])", Decimal("2.5")), ("all([true, null])", None),
    ("any([false, true])", True), ("sublist([1, 2, 3], 2)", [2, 3]), ("sublist([1, 2, 3], -2, 1)", [2]),
    ("append([1], 2, 3)", [1, 2, 3]), ("concatenate([1], [2], [3])", [1, 2, 3]),
    ("insert before([1, 3], 2, 2)", [1, 2, 3]), ("remove([1, 2, 3], 2)", [1, 3]), ("reverse([1, 2])", [2, 1]),
    ("index of([1, 2, 1], 1)", [1, 3]), ("union([1, 2], [2, 3])", [1, 2, 3]),
    ("distinct values([1, 2, 1])", [1, 2]), ("flatten([1, [2, [3]]])", [1, 2, 3]), ("product(2, 3, 4)", 24),
    ("median([3, 1, 2, 4])", Decimal("2.5")), ("stddev([2, 4, 7, 5])", Decimal("2.081665999466132735282297706979931")),
    ("mode([1, 2, 2, 1, 3])", [1, 2]), ("sort([3, 1, 2])", [1, 2, 3]),
    ("sort(list: [3, 1, 2], precedes: function(x, y) x > y)", [3, 2, 1]),
    ("list replace([1, 2, 3], 2, 9)", [1, 9, 3]), ("list replace([1, 2, 3], function(item, new) item > 1, 0)", [1, 0, 0]),
    ("is empty([])", True), ("duplicate values([1, 2, 1])", [1]), ("partition([1, 2, 3], 2)", [[1, 2], [3]]),
    ("count(\"a\")", 1),
])
def test_list_functions(text: str, expected: object) -> None:
    """DMN 1.5 10.3.4.4 list functions (min/max/sum take a list or several arguments; a single value is a list
    of one), and Camunda 8's is empty, duplicate values, partition."""
    assert evaluate(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("decimal(1/3, 2)", Decimal("0.33")), ("decimal(2.5, 0)", 2), ("floor(-1.5)", -2), ("ceiling(1.21, 1)", Decimal("1.3")),
    ("round up(-1.21, 1)", Decimal("-1.3")), ("round down(1.29, 1)", Decimal("1.2")), ("round half up(2.5, 0)", 3),
    ("round half down(2.5, 0)", 2), ("abs(-3)", 3), ('abs(duration("-P1D"))', __import__("datetime").timedelta(days=1)),
    ("modulo(-12, 5)", 3), ("modulo(12, -5)", -3), ("sqrt(16)", 4), ("sqrt(-1)", None), ("log(1)", 0),
    ("exp(0)", 1), ("odd(5)", True), ("even(5)", False), ("even(1.5)", None),
])
def test_numeric_functions(text: str, expected: object) -> None:
    """DMN 1.5 10.3.4.5 numeric functions (scale, the rounding modes, modulo's sign follows the divisor)."""
    assert evaluate(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("before(1, 10)", True), ("before([1..5], 5)", False), ("before([1..5), 5)", True), ("after([5..10], 4)", True),
    ("meets([1..5], [5..10])", True), ("met by([5..10], [1..5])", True), ("overlaps([1..5], [4..8])", True),
    ("overlaps before([1..5], [4..8])", True), ("overlaps after([4..8], [1..5])", True),
    ("finishes(5, [1..5])", True), ("finished by([1..5], 5)", True), ("includes([1..10], [4..6])", True),
    ("during(5, [1..10])", True), ("starts(1, [1..5])", True), ("started by([1..5], [1..3])", True),
    ("coincides([1..5], [1..5])", True), ("before(point1: 1, point2: 2)", True),
    ("includes(range: [1..10], point: 11)", False), ('range("[1..5)") = [1..5)', True), ('range("[5..1]")', None),
])
def test_range_functions(text: str, expected: object) -> None:
    """DMN 1.5 10.3.4.9 range functions (Allen's interval relations over points and ranges) and range()."""
    assert evaluate(text) == expected


@pytest.mark.parametrize("text, expected", [
    ('get value({a: {b: 1}}, "a")', {"b": 1}), ('get value({a: {b: 1}}, ["a", "b"])', 1),
    ("get entries({a: 1})", [{"key": "a", "value": 1}]), ('context([{key: "a", value: 1}])', {"a": 1}),
    ('context([{key: "a", value: 1}, {key: "a", value: 2}])', None),
    ('context put({a: 1}, "b", 2)', {"a": 1, "b": 2}), ('context put({a: {b: 1}}, ["a", "b"], 2)', {"a": {"b": 2}}),
    ("context merge([{a: 1}, {a: 2, b: 3}])", {"a": 2, "b": 3}), ('put({}, "a", 1)', {"a": 1}),
    ("get or else(null, 5)", 5), ('from json("{\\"a\\": [1, true]}")', {"a": [1, True]}),
    ('to json({a: date("2024-01-02")})', '{"a":"2024-01-02"}'),
])
def test_context_functions(text: str, expected: object) -> None:
    """DMN 1.5 10.3.4.10 context functions and Camunda 8's put, get or else, to json, from json."""
    assert evaluate(text) == expected


@pytest.mark.parametrize("text", ["abs()", "abs(1, 2)", "abs(\"a\")", "abs(n: 1, m: 2)", "substring(\"a\", 0)"])
def test_wrong_arguments_give_null(text: str) -> None:
    """DMN 1.5 10.3.4: a built-in invoked with wrong arguments yields null (the TCK's errorResult cases)."""
    assert evaluate(text) is None


def test_named_parameters_of_a_builtin() -> None:
    """DMN 1.5 10.3.2.13.2 (invocation with named parameters) on a multi-word parameter name."""
    assert evaluate('round half up(n: 2.345, scale: 2)') == Decimal("2.35")
