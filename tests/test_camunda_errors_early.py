"""Errors found early: every blocker of a file at once, and unparsable expressions refused before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bpmn_runner.cli import app
from bpmn_runner.errors import DefinitionError

from .scenario import Scenario, registry, write
from .test_elements import END, START, chain, flow

runner = CliRunner()


def test_validate_reports_every_blocker_not_the_first(tmp_path: Path) -> None:
    """Camunda Modeler's problems panel lists every problem of a diagram at once; so does validate."""
    body = (START + '<bpmn:userTask id="a" name="A"><bpmn:extensionElements><camunda:taskListener event="timeout" '
            'class="x"/></bpmn:extensionElements></bpmn:userTask><bpmn:userTask id="b" name="B">'
            '<bpmn:extensionElements><camunda:executionListener event="start"><camunda:script scriptFormat="groovy">'
            'x</camunda:script></camunda:executionListener></bpmn:extensionElements></bpmn:userTask>' + END
            + chain("start", "a", "b", "end"))
    path = write(tmp_path, body)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 3
    assert "'a': a timeout task listener needs a bpmn:timerEventDefinition" in result.output and "'groovy'" in result.output


@pytest.mark.parametrize("piece, words", [
    (flow("f1", "gw", "yes", "${amount &gt;}"), "f1"),
    (flow("f1", "gw", "yes", "=amount &gt;"), "f1"),
])
def test_an_unparsable_condition_is_a_definition_error_before_any_handler_runs(tmp_path: Path, piece: str,
                                                                                words: str) -> None:
    """docs.camunda.org/manual/latest/user-guide/process-engine/expression-language: Camunda parses expressions
    when it deploys a diagram, so a broken one never reaches a running instance."""
    calls: list = []
    body = (START + '<bpmn:serviceTask id="first" camunda:type="external" camunda:topic="first"/>'
            '<bpmn:exclusiveGateway id="gw" default="f2"/><bpmn:endEvent id="yes"/><bpmn:endEvent id="no"/>'
            + chain("start", "first", "gw") + piece + flow("f2", "gw", "no"))
    with pytest.raises(DefinitionError) as err:
        Scenario(write(tmp_path, body), registry(first=lambda call: calls.append(1)))
    assert words in str(err.value) and "diagram.bpmn:" in str(err.value) and calls == []


def test_an_unparsable_mapping_or_script_is_a_definition_error(tmp_path: Path) -> None:
    """docs.camunda.org/manual/latest/user-guide/process-engine/variables: mappings are parsed with the diagram."""
    task = ('<bpmn:userTask id="task"><bpmn:extensionElements><camunda:inputOutput><camunda:inputParameter '
            'name="x">${a +}</camunda:inputParameter></camunda:inputOutput></bpmn:extensionElements></bpmn:userTask>')
    with pytest.raises(DefinitionError, match="mapping of 'x'"):
        Scenario(write(tmp_path, START + task + END + chain("start", "task", "end")))
    script = ('<bpmn:scriptTask id="task" scriptFormat="javascript"><bpmn:script>var x = ;</bpmn:script>'
              '</bpmn:scriptTask>')
    with pytest.raises(DefinitionError, match="SyntaxError"):
        Scenario(write(tmp_path, START + script + END + chain("start", "task", "end")))


def test_a_handler_error_names_the_handlers_file_and_line_and_keeps_its_traceback(tmp_path: Path) -> None:
    """An incident in Camunda Cockpit shows the failing code's stack trace; here the one-line error names the
    handler's file and line and the HandlerError keeps the traceback."""
    from bpmn_runner import Engine, load
    from bpmn_runner.errors import HandlerError
    module = tmp_path / "my_handlers.py"
    module.write_text("def charge(call):\n    amount = call.data['amount']\n    return {'x': 1 / amount}\n")
    namespace: dict = {}
    exec(compile(module.read_text(), str(module), "exec"), namespace)
    path = write(tmp_path, START + '<bpmn:serviceTask id="task" camunda:type="external" camunda:topic="pay"/>'
                 + END + chain("start", "task", "end"))
    reg = registry()
    reg.register("pay", namespace["charge"])
    result = Engine(reg).start(load([path]), None, {"amount": 0}).run()
    assert result.status == "failed"
    assert "my_handlers.py:3" in result.error and "ZeroDivisionError" in result.error
    with pytest.raises(HandlerError) as err:
        Engine(reg).call_handler(load([path]).bound_tasks()[0].binding, _call(), "t")
    assert "Traceback" in err.value.traceback and "my_handlers.py" in err.value.traceback


def _call():
    from bpmn_runner import ServiceCall
    return ServiceCall(params={}, data={"amount": 0}, headers={}, instance_id="i", element_id="task",
                       idempotency_key="k")
