"""FEEL grammar (DMN 1.5 10.3.1): literals, names, comments, string escapes, syntax errors and parse caching."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bpmn_runner.errors import DefinitionError
from bpmn_runner.feel import FeelSyntaxError, compile_expression, evaluate


@pytest.mark.parametrize("text, expected", [
    ("1.5", Decimal("1.5")),
    (".5", Decimal("0.5")),
    ("1.23e4", Decimal("12300")),
    ('"a"', "a"),
    ("true", True),
    ("null", None),
    ('"\\n"', "\n"),
    ('"\\u0041"', "A"),
    ('"\\U01F40E"', "\U0001F40E"),
    ('"\\uD83D\\uDC0E"', "\U0001F40E"),
    ('"say \\"hi\\""', 'say "hi"'),
])
def test_literals(text: str, expected: object) -> None:
    """DMN 1.5 10.3.1.2 grammar rules 37 (numeric literal), 35 (string literal with escapes), 36 (boolean)."""
    assert evaluate(text) == expected


def test_comments_are_ignored() -> None:
    """DMN 1.5 10.3.1.2 (comments): `//` to the end of the line and `/* ... */` blocks."""
    assert evaluate("1 + /* two */ 2 // plus\n + 3") == 6


def test_names_with_spaces_resolve_against_the_context() -> None:
    """DMN 1.5 10.3.1.2 rule 27 (name): a name may contain spaces; the context supplies it."""
    assert evaluate("Applicant Age + 1", {"Applicant Age": 30}) == 31


def test_names_with_operators_need_the_known_names() -> None:
    """DMN 1.5 10.3.1.2 rule 30 (additional name symbols `. / - ' + *`): known names are matched longest first."""
    expr = compile_expression("Date-Time - Date-Time2", names={"Date-Time", "Date-Time2"})
    assert expr.evaluate({"Date-Time": Decimal(5), "Date-Time2": Decimal(2)}) == 3
    assert compile_expression("Customer's age + 1", names={"Customer's age"}).evaluate({"Customer's age": 1}) == 2


def test_multi_word_builtins_parse_as_one_name() -> None:
    """DMN 1.5 10.3.4: built-in names such as `date and time` and `string join` contain keywords and spaces."""
    assert evaluate('string join(["a", "b"], "-")') == "a-b"
    assert evaluate('date and time("2024-01-02T03:04:05").hour') == 3


def test_backtick_names() -> None:
    """Camunda 8 FEEL (docs.camunda.io "FEEL data types: names"): a name in backticks may contain any character."""
    assert evaluate("`order-id` + 1", {"order-id": 1}) == 2


@pytest.mark.parametrize("text, column", [("1 + * 2", 5), ('"open', 1), ("if x then 1", 12), ("[1, 2", 6),
                                          ("a in", 5)])
def test_syntax_errors_name_the_column(text: str, column: int) -> None:
    """A syntax error names the 1-based column; FeelSyntaxError is a DefinitionError."""
    with pytest.raises(FeelSyntaxError) as caught:
        compile_expression(text)
    assert caught.value.column == column
    assert f"column {column}" in str(caught.value)
    assert isinstance(caught.value, DefinitionError)


def test_expressions_are_parsed_once() -> None:
    """Expressions are cached by their text: the same text gives the same compiled object."""
    assert compile_expression("a + 1") is compile_expression("a + 1")


def test_deep_nesting_is_a_syntax_error_not_a_crash() -> None:
    with pytest.raises(FeelSyntaxError):
        compile_expression("(" * 500 + "1" + ")" * 500)


def test_variables_lists_the_free_names() -> None:
    """FeelExpression.variables: names read from the context, not built-ins or loop variables."""
    expr = compile_expression("for x in items return x + bonus + count(items)")
    assert expr.variables == {"items", "bonus"}
