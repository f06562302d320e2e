"""Camunda 7 JUEL: conditions must give a Boolean, and operands are coerced as the EL specification says."""

from __future__ import annotations

from pathlib import Path

import pytest

from bpmn_runner import expressions
from bpmn_runner.errors import ExpressionError, UnsupportedElementError

from .scenario import Scenario, write
from .test_elements import START, flow

SERVICE = '<bpmn:serviceTask id="check" camunda:type="external" camunda:topic="noop"/>'


def gateway(yes: str, no: str) -> str:
    return (START + '<bpmn:exclusiveGateway id="gw"/><bpmn:endEvent id="yes"/><bpmn:endEvent id="no"/>'
            + flow("f0", "start", "gw") + flow("f_yes", "gw", "yes", yes) + flow("f_no", "gw", "no", no))


def test_a_string_false_condition_fails_the_instance_as_camunda_does(tmp_path: Path) -> None:
    """docs.camunda.org/manual/latest/reference/bpmn20/gateways/sequence-flow and the javadoc of
    UelExpressionCondition: a condition whose value is not a Boolean fails with "condition expression returns
    non-Boolean" instead of being taken by truthiness."""
    s = Scenario(write(tmp_path, gateway("${approved}", "${!approved}")), data={"approved": "false"})
    assert s.result.status == "failed"
    assert "condition expression returns non-Boolean" in s.result.error and "gw" in s.result.error


def test_a_boolean_condition_chooses_one_branch(tmp_path: Path) -> None:
    """docs.camunda.org/manual/latest/reference/bpmn20/gateways/exclusive-gateway: the first flow whose condition
    is true is taken."""
    for value, expected in [(True, "yes"), (False, "no")]:
        s = Scenario(write(tmp_path, gateway("${approved}", "${!approved}")), data={"approved": value})
        assert s.result.status == "completed" and s.result.path[-1] == expected


def test_a_null_condition_is_an_error_not_false(tmp_path: Path) -> None:
    """UelExpressionCondition (Camunda 7 javadoc): "condition expression returns null" is an error."""
    s = Scenario(write(tmp_path, gateway("${decision}", "${decision == null}")), data={"decision": None})
    assert s.result.status == "failed" and "condition expression returns null" in s.result.error


def test_a_number_where_a_boolean_is_needed_is_an_error(tmp_path: Path) -> None:
    """EL 1.8.5 (coerce to Boolean): only null, "" , Boolean and String coerce; a number is an error.
    docs.camunda.org/manual/latest/user-guide/process-engine/expression-language/unified-expression-language"""
    s = Scenario(write(tmp_path, gateway("${count}", "${count == 0}")), data={"count": 1})
    assert s.result.status == "failed" and "non-Boolean" in s.result.error
    with pytest.raises(ExpressionError, match="not a boolean"):
        expressions.evaluate("${count && true}", {"count": 1})


@pytest.mark.parametrize("expression, data, expected", [
    ('${!"false"}', {}, True),            # EL: a String coerces to Boolean.valueOf(text)
    ("${!approved}", {"approved": "false"}, True),
    ("${!approved}", {"approved": "TRUE"}, False),
    ("${'7' == 7}", {}, True),            # EL: a Number on either side makes both numbers
    ("${'7.0' == 7}", {}, True),
    ("${x == null}", {"x": None}, True),
    ("${empty x}", {"x": None}, True),
    ("${empty x}", {"x": ""}, True),
    ("${empty x}", {"x": []}, True),
    ("${empty x}", {"x": {}}, True),
    ("${not empty x}", {"x": "a"}, True),
    ("${x > 5}", {"x": "10"}, True),      # a numeric string is coerced for a comparison with a number
    ("${flag == 'true'}", {"flag": True}, True),
    ("${null + 1}", {}, 1),
])
def test_operands_are_coerced_as_the_el_specification_says(expression: str, data: dict, expected: object) -> None:
    """Jakarta EL specification 1.8-1.10 (coercion, relational and equality operators) as Camunda 7's JUEL applies
    them: docs.camunda.org/manual/latest/user-guide/process-engine/expression-language/unified-expression-language"""
    assert expressions.evaluate(expression, data) == expected
    if isinstance(expected, bool):
        assert expressions.evaluate_condition(expression, data) is expected


def test_a_camunda7_condition_without_dollar_braces_is_refused_at_load(tmp_path: Path) -> None:
    """docs.camunda.org/manual/latest/reference/bpmn20/gateways/sequence-flow: Camunda 7 conditions are `${...}`
    expressions; plain text would be a literal string, which Camunda rejects as non-Boolean."""
    body = (START + SERVICE + '<bpmn:exclusiveGateway id="gw" default="f_no"/><bpmn:endEvent id="yes"/>'
            '<bpmn:endEvent id="no"/>' + flow("f0", "start", "check") + flow("f1", "check", "gw")
            + flow("f_yes", "gw", "yes", "amount &gt; 5") + flow("f_no", "gw", "no"))
    with pytest.raises(UnsupportedElementError) as err:
        Scenario(write(tmp_path, body))
    message = str(err.value)
    assert "diagram.bpmn:" in message and "f_yes" in message and "${amount > 5}" in message


def test_spin_json_in_a_juel_condition(tmp_path: Path) -> None:
    """docs.camunda.org/manual/latest/user-guide/data-formats/json (Expression Language Integration):
    ${S(customer).prop("address").prop("post code").numberValue() == 1234} as a sequence-flow condition."""
    customer = '{"name": "jonny", "address": {"street": "12 High Street", "post code": 1234}}'
    yes = '${S(customer).prop("address").prop("post code").numberValue() == 1234}'.replace('"', "&quot;")
    body = (START + '<bpmn:exclusiveGateway id="gw" default="f_no"/><bpmn:endEvent id="yes"/>'
            '<bpmn:endEvent id="no"/>' + flow("f0", "start", "gw") + flow("f_yes", "gw", "yes", yes)
            + flow("f_no", "gw", "no"))
    assert Scenario(write(tmp_path, body), data={"customer": customer}).result.path[-1] == "yes"
    with pytest.raises(ExpressionError, match="unable to find 'zip'"):
        expressions.evaluate('${S(customer).prop("zip")}', {"customer": customer})
