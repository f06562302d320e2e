"""Conditions, mappings and script tasks in the Python, JUEL and FEEL dialects."""

from __future__ import annotations

import time

import pytest

from bpmn_runner.errors import ExpressionError
from bpmn_runner.expressions import (MissingVariableError, check_syntax, dialect_of, evaluate, evaluate_mapping,
                                     execute_script, referenced_names)
from bpmn_runner.expressions import scripts as scripts_module

DATA = {
    "amount": 150,
    "limit": 100,
    "status": "approved",
    "approved": True,
    "nothing": None,
    "text_five": "5",
    "items": [3, 1, 2],
    "order": {"total": 250, "customer": {"name": "Ann"}, "lines": [{"sku": "a", "qty": 2}, {"sku": "b", "qty": 5}]},
}


def error_of(expression: str, data: dict | None = None, **kwargs) -> ExpressionError:
    with pytest.raises(ExpressionError) as caught:
        evaluate(expression, DATA if data is None else data, **kwargs)
    return caught.value


# ---------------------------------------------------------------- dialect detection


@pytest.mark.parametrize("expression, dialect", [
    ("${amount > 100}", "juel"),
    ("#{amount > 100}", "juel"),
    ("Order ${id} received", "juel"),
    ("=amount > 100", "feel"),
    ("  = amount > 100", "feel"),
    ("amount > 100", "python"),
    ("amount == 100", "python"),
])
def test_dialect_of(expression: str, dialect: str) -> None:
    assert dialect_of(expression) == dialect


# ---------------------------------------------------------------- Python (SpiffArena)


@pytest.mark.parametrize("expression, expected", [
    ("amount > limit", True),
    ("amount < limit or status == 'approved'", True),
    ("not approved", False),
    ("order['total'] + 1", 251),
    ("order.total", 250),
    ("order.customer.name", "Ann"),
    ("len(items) > 2", True),
    ("sorted(items)", [1, 2, 3]),
    ("sum(items) / len(items)", 2.0),
    ("max(items) - min(items)", 2),
    ("round(2.567, 2)", 2.57),
    ("'big' if amount > 100 else 'small'", "big"),
    ("[i * 2 for i in items if i > 1]", [6, 4]),
    ("any(i > 2 for i in items)", True),
    ("status.upper()", "APPROVED"),
    ("order.get('missing', 0)", 0),
    ("f'{amount} EUR'", "150 EUR"),
    ("nothing is None", True),
    ("'app' in status", True),
])
def test_python_expressions(expression: str, expected: object) -> None:
    assert evaluate(expression, DATA) == expected


def test_python_missing_variable_names_it() -> None:
    error = error_of("amount > ceiling")
    assert isinstance(error, MissingVariableError)
    assert error.name == "ceiling"
    assert str(error) == "cannot evaluate amount > ceiling: unknown variable 'ceiling'"


def test_python_missing_key_names_the_path() -> None:
    for expression in ("order.discount > 0", "order['discount'] > 0"):
        error = error_of(expression)
        assert isinstance(error, MissingVariableError)
        assert "discount" in error.name and "order" in error.name


@pytest.mark.parametrize("expression, fragment", [
    ("import os", "imports are not allowed"),
    ("__import__('os').system('true')", "'__import__' is not allowed"),
    ("open('/etc/passwd').read()", "'open' is not allowed"),
    ("().__class__.__bases__", "access to '__"),
    ("status.__class__", "'__class__' is not allowed"),
    ("9**9**9", "bits"),
    ("'a' * 10**10", "over the limit"),
    ("[0] * 10**9", "over the limit"),
    ("sum(range(10**12))", "range()"),
    ("'x'.center(10**9)", "over the limit"),
    ("f'{amount:>999999999}'", "format width"),
    ("[i for i in range(10**5)]", "too long"),
    ("str(10**5000)", "too many digits"),
    ("items.append(4)", "not available on a list"),
    ("'{}'.format(1)", "not available on a string"),
    ("lambda: 1", "lambda is not allowed"),
    ("1 / 0", "division by zero"),
])
def test_python_sandbox_refuses(expression: str, fragment: str) -> None:
    error = error_of(expression)
    message = str(error)
    assert message.startswith(f"cannot evaluate {expression}: ")
    assert fragment in message
    assert "\n" not in message and "Traceback" not in message


def test_python_sandbox_does_not_mutate_data() -> None:
    data = {"items": [1, 2]}
    with pytest.raises(ExpressionError):
        evaluate("items.append(3)", data)
    assert data == {"items": [1, 2]}


def test_python_trusted_mode_is_plain_python() -> None:
    assert evaluate("__import__('os').sep", DATA, trusted=True) in ("/", "\\")
    assert evaluate("isinstance(amount, int)", DATA, trusted=True) is True
    with pytest.raises(MissingVariableError) as caught:
        evaluate("ceiling > 1", DATA, trusted=True)
    assert caught.value.name == "ceiling"
    data = {"x": 1}
    evaluate("globals().update(x=2)", data, trusted=True)
    assert data == {"x": 1}  # the globals are a copy


# ---------------------------------------------------------------- JUEL (Camunda 7)


@pytest.mark.parametrize("expression, expected", [
    ("${amount > limit}", True),
    ("${amount gt limit && status == 'approved'}", True),
    ("${amount lt limit || !approved}", False),
    ("${not approved or amount ge 150}", True),
    ("${amount le 149 and amount ne 150}", False),
    ("${status eq \"approved\"}", True),
    ("${amount != 150}", False),
    ("${amount >= 150 ? 'big' : 'small'}", "big"),
    ("${amount < 10 ? 'small' : amount < 1000 ? 'mid' : 'big'}", "mid"),
    ("${amount + 2 * 5 - 10}", 150),
    ("${amount / 4}", 37.5),
    ("${amount div 3}", 50.0),
    ("${amount % 7}", 3),
    ("${-7 mod 3}", -1),
    ("${-amount}", -150),
    ("${order.customer.name}", "Ann"),
    ("${order['total']}", 250),
    ("${items[0]}", 3),
    ("${order.lines[1].sku}", "b"),
    ("${empty nothing}", True),
    ("${empty ''}", True),
    ("${empty items}", False),
    ("${null == nothing}", True),
    ("${text_five == 5}", True),
    ("${text_five + 1}", 6),
    ("${nothing.anything}", None),
    ("${true}", True),
    ("${1.5e2 == amount}", True),
    ("#{amount > 1}", True),
    ("${execution.getVariable('amount') > 100}", True),
    ("${execution.getVariable('ghost') == null}", True),
    ("${execution.hasVariable('ghost')}", False),
    ("${items.size() == 3}", True),
    ("${status.startsWith('app')}", True),
    ("${'}' == '}'}", True),
    ("${status == 'it\\'s'}", False),
])
def test_juel_expressions(expression: str, expected: object) -> None:
    assert evaluate(expression, DATA) == expected


def test_juel_composite_text_is_a_string() -> None:
    assert evaluate("Order ${amount} for ${order.customer.name} (${approved})", DATA) == "Order 150 for Ann (true)"
    assert evaluate("cost \\${amount} is ${amount}", DATA) == "cost ${amount} is 150"


def test_juel_missing_variable() -> None:
    error = error_of("${amount > ceiling}")
    assert isinstance(error, MissingVariableError) and error.name == "ceiling"
    assert str(error) == "cannot evaluate ${amount > ceiling}: unknown variable 'ceiling'"
    assert error_of("${order.discount > 1}").name == "order.discount"
    assert isinstance(error_of("Hello ${who}"), MissingVariableError)


@pytest.mark.parametrize("expression, fragment", [
    ("${'a' + 'b'}", "needs numbers"),
    ("${amount / 0}", "division by zero"),
    ("${now()}", "not supported"),
    ("${execution.getProcessInstanceId()}", "not available"),
    ("${amount >}", "expected a value"),
    ("${amount > 1", "no closing"),
    ("${approved && 5}", "not a boolean"),
    ("${items < 3}", "not a number"),
    ("${items < status}", "cannot compare"),
])
def test_juel_errors(expression: str, fragment: str) -> None:
    message = str(error_of(expression))
    assert message.startswith(f"cannot evaluate {expression}: ")
    assert fragment in message


# ---------------------------------------------------------------- FEEL (Camunda 8)


@pytest.mark.parametrize("expression, expected", [
    ("=amount > limit", True),
    ("=amount = 150", True),
    ("=status != \"approved\"", False),
    ("=amount >= 150 and amount <= 150", True),
    ("=amount < 10 or approved", True),
    ("=not(approved)", False),
    ("=order.customer.name", "Ann"),
    ("=items[1]", 3),
    ("=items[-1]", 2),
    ("=items[0]", None),
    ("=order.lines.sku", ["a", "b"]),
    ("=order.lines[qty > 3].sku", ["b"]),
    ("=items[item > 1]", [3, 2]),
    ("=amount + 10 * 2 - 20", 150),
    ("=amount / 4", 37.5),
    ("=amount / 3", 50),
    ("=2 ** 10", 1024),
    ("=\"Order \" + status", "Order approved"),
    ("=\"a\" + 1", None),
    ("=if amount > 100 then \"big\" else \"small\"", "big"),
    ("=amount in [100, 150]", True),
    ("=amount in [1..100]", False),
    ("=amount between 100 and 200", True),
    ("=string length(status)", 8),
    ("=upper case(\"ab\")", "AB"),
    ("=lower case(\"AB\")", "ab"),
    ("=contains(status, \"prov\")", True),
    ("=count(items)", 3),
    ("=sum(items)", 6),
    ("=max(items)", 3),
    ("={a: 1, b: a + 1, \"c d\": [1, \"x\"]}", {"a": 1, "b": 2, "c d": [1, "x"]}),
    ("=[1, 2, amount]", [1, 2, 150]),
    ("=null", None),
    ("=nothing = null", True),
    ("=ghost", None),
    ("=ghost = null", True),
    ("=is defined(ghost)", False),
    ("=order.discount", None),
    ("=true and null", None),
    ("=amount > 1000 and ghost > 1", False),
    # DMN 1.5 10.3.2.3.1: a number beyond the decimal128 range is not a FEEL number: the result is null
    # (this was an error before FEEL followed the specification).
    ("=2 ** 1000000", None),
    ("=for x in items return x * 2", [6, 2, 4]),
])
def test_feel_expressions(expression: str, expected: object) -> None:
    assert evaluate(expression, DATA) == expected


@pytest.mark.parametrize("expression", ["=ghost > 1", "=ghost = 5", "=amount > 1 and ghost", "=not(ghost)"])
def test_feel_condition_reading_a_missing_variable_raises(expression: str) -> None:
    error = error_of(expression)
    assert isinstance(error, MissingVariableError) and error.name == "ghost"


@pytest.mark.parametrize("expression, fragment", [
    ("=amount >", "expected a value"),
    ("=foo(1)", "unknown function 'foo'"),
    ("=count(items, 2)", "wrong number of arguments"),
    ("=function(x) external {java: {class: \"java.lang.Math\", method signature: \"abs(double)\"}}",
     "not supported"),
    ("=\"unclosed", "not closed"),
])
def test_feel_errors(expression: str, fragment: str) -> None:
    message = str(error_of(expression))
    assert message.startswith(f"cannot evaluate {expression}: ")
    assert fragment in message


# ---------------------------------------------------------------- mappings


@pytest.mark.parametrize("source, expected", [
    ("EUR", "EUR"),
    ("amount > 1", "amount > 1"),
    ("", ""),
    ("=amount * 2", 300),
    ("={total: order.total, currency: \"EUR\"}", {"total": 250, "currency": "EUR"}),
    ("${order.customer.name}", "Ann"),
    ("Dear ${order.customer.name}", "Dear Ann"),
])
def test_evaluate_mapping(source: str, expected: object) -> None:
    assert evaluate_mapping(source, DATA) == expected


# ---------------------------------------------------------------- check_syntax and referenced_names


@pytest.mark.parametrize("expression", ["amount > 1", "${amount > 1}", "Hi ${name}", "=amount > 1",
                                        "={a: [1..3], b: if x then 1 else 2}"])
def test_check_syntax_accepts(expression: str) -> None:
    check_syntax(expression)


@pytest.mark.parametrize("expression", ["amount >", "x = 1", "${amount >}", "${a} ${b", "=amount >", "=",
                                        "=(1 + 2", "${}"])
def test_check_syntax_rejects(expression: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        check_syntax(expression)
    assert str(caught.value).startswith(f"cannot parse {expression}: ")


def test_check_syntax_does_not_need_data() -> None:
    check_syntax("${ghost > 1}")
    check_syntax("ghost > 1")


@pytest.mark.parametrize("expression, names", [
    ("amount > limit and len(items) > 0", {"amount", "limit", "items"}),
    ("order.total > 1 and [i for i in xs if i > m]", {"order", "xs", "m"}),
    ("${amount > limit && order.customer.name == 'x'}", {"amount", "limit", "order"}),
    ("${execution.getVariable('hidden') == null}", {"hidden"}),
    ("Order ${id} for ${who.name}", {"id", "who"}),
    ("=amount > limit and count(items) > 0", {"amount", "limit", "items"}),
    ("=orders[total > threshold]", {"orders"}),
    ("={a: x, b: a + y}", {"x", "y"}),
])
def test_referenced_names(expression: str, names: set[str]) -> None:
    assert referenced_names(expression) == names


# ---------------------------------------------------------------- scripts


def test_script_writes_back_assigned_variables() -> None:
    data = {"price": 30, "qty": 4}
    execute_script("total = price * qty\nif total > 100:\n    discount = 5\n", data)
    assert data == {"price": 30, "qty": 4, "total": 120, "discount": 5}


def test_script_mutations_deletions_and_helpers() -> None:
    data = {"items": [1, 2], "tmp": "x", "keep": {"a": 1}}
    execute_script(
        """
        def double(v):
            return v * 2
        items.append(3)
        keep['b'] = double(2)
        pair = (1, 2)
        squares = [i * i for i in range(4)]
        count = 0
        for i in items:
            count += i
        del tmp
        """, data)
    # The loop variable is assigned too, so it is written back like any other name.
    assert data == {"items": [1, 2, 3], "keep": {"a": 1, "b": 4}, "pair": [1, 2], "squares": [0, 1, 4, 9],
                    "count": 6, "i": 3}


def test_failed_script_leaves_data_unchanged() -> None:
    data = {"items": [1]}
    with pytest.raises(ExpressionError) as caught:
        execute_script("items.append(2)\nx = 1\ny = 1 / 0\n", data)
    assert data == {"items": [1]}
    assert str(caught.value) == "script line 3: ZeroDivisionError: division by zero"


def test_script_values_that_cannot_be_stored_are_reported() -> None:
    with pytest.raises(ExpressionError) as caught:
        execute_script("tags = {'a', 'b'}", {})
    assert "'tags'" in str(caught.value) and "set" in str(caught.value)


def test_script_syntax_error_names_the_line() -> None:
    with pytest.raises(ExpressionError) as caught:
        execute_script("x = 1\nif x >:\n    y = 2\n", {})
    assert str(caught.value).startswith("script line 2: invalid syntax")


def test_script_missing_variable() -> None:
    with pytest.raises(MissingVariableError) as caught:
        execute_script("a = 1\nb = ghost + a", {})
    assert caught.value.name == "ghost"
    assert str(caught.value) == "script line 2: unknown variable 'ghost'"


@pytest.mark.parametrize("script", [
    "import os",
    "from os import path",
    "f = open('/etc/passwd')",
    "x = ().__class__",
    "x = eval('1')",
    "exec('x = 1')",
    "t = type(1)",
    "g = getattr(1, 'real')",
    "class A:\n    pass",
])
def test_script_refuses_sandbox_escapes(script: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        execute_script(script, {})
    assert str(caught.value).endswith(
        "is not allowed in a sandboxed script; pass --trust-scripts to run scripts as full Python")
    assert str(caught.value).startswith("script line ")


@pytest.mark.parametrize("script, fragment", [
    ("x = 9**9**9", "bits"),
    ("x = 'a' * 10**10", "over the limit"),
    ("x = list(range(10**9))", "range()"),
    ("x = sum([[0] * 100] * 10, [])", "sum()"),
    ("x = 'ab'.ljust(10**9)", "over the limit"),
    ("l = [0]\nwhile True:\n    l = [*l, *l]", "over the limit"),
    ("s = 'ab'\nwhile True:\n    s = f'{s}{s}'", "over the limit"),
    ("def f(n):\n    return f(n + 1)\nf(0)", "recursion"),
])
def test_script_size_limits(script: str, fragment: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        execute_script(script, {})
    assert fragment in str(caught.value)


def test_endless_script_is_stopped_within_the_time_limit() -> None:
    started = time.monotonic()
    with pytest.raises(ExpressionError) as caught:
        execute_script("while True: pass", {})
    assert time.monotonic() - started < 3
    assert "ran longer than" in str(caught.value)


@pytest.mark.parametrize("script", [
    "while True:\n    try:\n        x = [i for i in range(100)]\n    except Exception:\n        pass",
    "try:\n    while True:\n        pass\nexcept BaseException:\n    pass\nwhile True:\n    pass",
    "try:\n    while True:\n        pass\nfinally:\n    while True:\n        pass",
    "def spin():\n    while True:\n        yield 1\nx = list(spin())",
])
def test_endless_script_cannot_swallow_the_stop(script: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scripts_module, "TIME_LIMIT_SECONDS", 0.2)
    started = time.monotonic()
    with pytest.raises(ExpressionError) as caught:
        execute_script(script, {})
    assert time.monotonic() - started < 2
    assert "ran longer than" in str(caught.value) or "over the limit" in str(caught.value)


def test_trusted_script_is_full_python() -> None:
    data = {"n": 3}
    execute_script("import math\nroot = math.sqrt(n * 3)\ndef helper():\n    return 1\n", data, trusted=True)
    assert data == {"n": 3, "root": 3.0}  # the module and the function are not written back


def test_trusted_script_errors_are_expression_errors() -> None:
    with pytest.raises(ExpressionError) as caught:
        execute_script("x = 1\nraise ValueError('bad input')", {}, trusted=True)
    assert str(caught.value) == "script line 2: ValueError: bad input"


def test_feel_filter_over_items_without_the_field_is_not_a_missing_variable() -> None:
    """FEEL (DMN 1.5 10.3.2.5): inside a filter a bare name is a field of the item; an item without it reads null."""
    data = {"orders": [{"amount": 5}, {"note": "no amount"}, {"amount": 50}]}
    assert evaluate("=count(orders[amount > 10]) > 0", data) is True
    assert evaluate("=count(orders[amount > 100]) > 0", data) is False
