"""Camunda 7 JavaScript: script tasks and conditions run in a bounded, sandboxed engine with Camunda's script API."""

from __future__ import annotations

from pathlib import Path

import pytest

from bpmn_runner.errors import ExpressionError, UnsupportedElementError
from bpmn_runner.expressions.javascript import run_script

from .scenario import Scenario, write
from .test_elements import END, START, chain, flow

SCRIPT_TASK_PAGE = "docs.camunda.org/manual/latest/reference/bpmn20/tasks/script-task"


def script_task(code: str, *, fmt: str = "javascript", extra: str = "") -> str:
    return f'<bpmn:scriptTask id="task" scriptFormat="{fmt}" {extra}><bpmn:script>{code}</bpmn:script></bpmn:scriptTask>'


def run(tmp_path: Path, task: str, data: dict) -> Scenario:
    return Scenario(write(tmp_path, START + task + END + chain("start", "task", "end")), data=data)


def test_script_reads_variables_and_sets_them_through_execution(tmp_path: Path) -> None:
    """docs.camunda.org/manual/latest/user-guide/process-engine/scripting ("Variables in scripts"): process
    variables are readable by name; execution.setVariable stores one; a plain assignment stays in the script."""
    code = 'var local = price * qty;\nexecution.setVariable("total", local);\ncounter = 99;'
    s = run(tmp_path, script_task(code), {"price": 3, "qty": 4, "counter": 1})
    assert s.result.status == "completed", s.result.error
    assert s.result.data == {"price": 3, "qty": 4, "counter": 1, "total": 12}


def test_result_variable_receives_the_value_of_the_last_statement(tmp_path: Path) -> None:
    """docs.camunda.org/manual/latest/reference/bpmn20/tasks/script-task ("Script Results"):
    camunda:resultVariable stores the script's return value."""
    s = run(tmp_path, script_task("execution.getVariable('a') + b", extra='camunda:resultVariable="sum"'),
            {"a": 2, "b": 5})
    assert s.result.data["sum"] == 7


def test_spin_json_helper_reads_and_writes_json(tmp_path: Path) -> None:
    """docs.camunda.org/manual/latest/user-guide/data-formats/json and reference/spin/json: S(...) with prop(),
    stringValue(), numberValue(), boolValue(), elements() and toString()."""
    code = ('var c = S(customer);\n'
            'execution.setVariable("street", c.prop("address").prop("street").stringValue());\n'
            'execution.setVariable("postCode", c.prop("address").prop("post code").numberValue());\n'
            'execution.setVariable("vip", c.prop("vip").boolValue());\n'
            'execution.setVariable("tags", c.prop("tags").elements().map(function (t) { return t.stringValue(); }));\n'
            'c.prop("name", "kermit");\n'
            'execution.setVariable("text", c.prop("address").toString());\n'
            'execution.setVariable("customer", c);')
    customer = '{"name": "jonny", "vip": true, "tags": ["a", "b"], "address": {"street": "12 High Street", ' \
               '"post code": 1234}}'
    s = run(tmp_path, script_task(code), {"customer": customer})
    assert s.result.status == "completed", s.result.error
    data = s.result.data
    assert (data["street"], data["postCode"], data["vip"], data["tags"]) == ("12 High Street", 1234, True, ["a", "b"])
    assert data["text"] == '{"street":"12 High Street","post code":1234}'
    assert data["customer"]["name"] == "kermit"


def test_a_missing_spin_property_fails_the_task_with_the_script_line(tmp_path: Path) -> None:
    """reference/spin/json/02-traversing-json: prop() of a missing property throws (SpinJsonPropertyException)."""
    s = run(tmp_path, script_task('var x = 1;\nS(customer).prop("nope").stringValue();'), {"customer": "{}"})
    assert s.result.status == "failed"
    assert "task" in s.result.error and "line 2" in s.result.error and "nope" in s.result.error


def test_javascript_condition_chooses_the_branch(tmp_path: Path) -> None:
    """docs.camunda.org/manual/latest/user-guide/process-engine/scripting ("Use Scripts as Conditions"):
    a conditionExpression with language="javascript" must give a Boolean."""
    def condition(text: str) -> str:
        return (f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" language="javascript">{text}'
                f'</bpmn:conditionExpression>')
    body = (START + '<bpmn:exclusiveGateway id="gw"/><bpmn:endEvent id="big"/><bpmn:endEvent id="small"/>'
            + flow("f0", "start", "gw")
            + f'<bpmn:sequenceFlow id="f1" sourceRef="gw" targetRef="big">{condition("amount &gt; 100")}'
              '</bpmn:sequenceFlow>'
            + f'<bpmn:sequenceFlow id="f2" sourceRef="gw" targetRef="small">{condition("amount")}</bpmn:sequenceFlow>')
    assert Scenario(write(tmp_path, body), data={"amount": 150}).result.path[-1] == "big"
    failed = Scenario(write(tmp_path, body), data={"amount": 50}).result
    assert failed.status == "failed" and "non-Boolean" in failed.error


@pytest.mark.parametrize("fmt", ["groovy", "jruby", "python2"])
def test_other_script_languages_are_refused_at_load_naming_language_and_element(tmp_path: Path, fmt: str) -> None:
    """docs.camunda.org/manual/latest/reference/bpmn20/tasks/script-task: Camunda runs any JSR-223 language;
    bpmn-runner runs JavaScript and Python only."""
    with pytest.raises(UnsupportedElementError) as err:
        run(tmp_path, script_task("x = 1", fmt=fmt), {})
    assert f"'{fmt}'" in str(err.value) and "'task'" in str(err.value) and "diagram.bpmn:" in str(err.value)


def test_the_sandbox_bounds_time_and_memory_and_reaches_nothing_of_the_host() -> None:
    """Camunda runs scripts in the JVM; bpmn-runner's isolate must not let a diagram reach the machine."""
    with pytest.raises(ExpressionError, match="longer than 0.2 s"):
        run_script("while (true) {}", {}, time_limit=0.2)
    with pytest.raises(ExpressionError, match="more than 16 MB"):
        run_script("var a = []; while (true) a.push('x'.repeat(100) + a.length);", {}, memory_limit=16 * 1024 * 1024)
    for code in ("require('fs')", "process.exit(1)", "fetch('http://example.org')", "load('/etc/passwd')"):
        with pytest.raises(ExpressionError, match="is not defined"):
            run_script(code, {})


def test_run_script_returns_only_what_changed() -> None:
    """The reusable API: variables in, changed variables out; bpmn.io-style scripts may store globals."""
    outcome = run_script("execution.setVariable('b', a * 2); execution.removeVariable('c'); 'done'",
                         {"a": 2, "c": 1})
    assert (outcome.result, outcome.changed, outcome.removed) == ("done", {"b": 4}, ["c"])
    assert run_script("a = a + 1", {"a": 1}, store_globals=True).changed == {"a": 2}
    assert run_script("greeting + ' ' + who", {"who": "ada"}, globals={"greeting": "hi"}).result == "hi ada"
