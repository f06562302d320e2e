"""Fixes found by walking the corpus (bench/corpus_walk.md) and for real runs of the same constructs.

- BPMN 2.0 10.5.2: without a start event every flow node without incoming flows starts, also one with boundary
  events (they are armed as when a flow enters it).
- Camunda 7 "Multiple Instance" (camunda:collection, camunda:elementVariable) on a script task.
- SpiffArena "Messages": a process-variable correlation (spiffworkflow:processVariableCorrelation) is evaluated over
  the instance's data when its catch starts waiting.
"""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from bpmn_runner.cli import app

from .scenario import Scenario, write
from .test_elements import END, START, chain

MESSAGE = '<bpmn:message id="Msg_nudge" name="nudge"/>'


def test_an_implicit_start_at_a_task_with_a_boundary_event_arms_it(tmp_path: Path) -> None:
    """No start event; `work` has a non-interrupting message boundary event: the message takes its path while
    `work` keeps waiting, then both paths end."""
    body = ('<bpmn:userTask id="work"/><bpmn:boundaryEvent id="nudged" cancelActivity="false" attachedToRef="work">'
            '<bpmn:messageEventDefinition messageRef="Msg_nudge"/></bpmn:boundaryEvent>'
            '<bpmn:scriptTask id="note"><bpmn:script>nudged = True</bpmn:script></bpmn:scriptTask>'
            + END + chain("work", "end") + chain("nudged", "note"))
    s = Scenario(write(tmp_path, body, extra=MESSAGE))
    assert sorted(s.waiting_ids()) == ["nudged", "work"]  # the boundary event is armed
    s.instance.send_message("nudge")
    s.result = s.instance.run()
    assert "note" in s.result.path and "work" in s.waiting_ids()
    s.complete("work")
    assert s.result.status == "completed" and s.result.data["nudged"] is True


def test_a_camunda_7_script_task_runs_once_per_item_of_camunda_collection(tmp_path: Path) -> None:
    task = ('<bpmn:scriptTask id="each" scriptFormat="python"><bpmn:multiInstanceLoopCharacteristics '
            'isSequential="true" camunda:collection="items" camunda:elementVariable="item"/>'
            '<bpmn:script>total = total + item</bpmn:script></bpmn:scriptTask>')
    s = Scenario(write(tmp_path, START + task + END + chain("start", "each", "end")),
                 data={"items": [1, 2, 3], "total": 0})
    assert s.result.status == "completed", s.result.error
    assert s.result.data["total"] == 6


def test_a_simulated_sequential_multi_instance_over_a_missing_collection_runs_one_item(tmp_path: Path) -> None:
    task = ('<bpmn:task id="each"><bpmn:multiInstanceLoopCharacteristics isSequential="true">'
            '<bpmn:loopDataInputRef>orders</bpmn:loopDataInputRef><bpmn:inputDataItem id="order"/>'
            '</bpmn:multiInstanceLoopCharacteristics></bpmn:task>')
    path = write(tmp_path, START + task + END + chain("start", "each", "end"))
    out = json.loads(CliRunner().invoke(app, ["run", str(path), "--simulate", "--json"]).stdout)
    assert out["status"] == "completed", out
    assert any("'orders' does not exist yet; assumed one item" in s["assumed"] for s in out["simulated"])


def _variable_correlation(tmp_path: Path) -> Path:
    catch = ('<bpmn:intermediateCatchEvent id="wait"><bpmn:messageEventDefinition messageRef="Msg_nudge">'
             '<bpmn:extensionElements><spiffworkflow:processVariableCorrelation><spiffworkflow:propertyId>order'
             '</spiffworkflow:propertyId><spiffworkflow:expression>order_id</spiffworkflow:expression>'
             '</spiffworkflow:processVariableCorrelation></bpmn:extensionElements></bpmn:messageEventDefinition>'
             '</bpmn:intermediateCatchEvent>')
    return write(tmp_path, START + catch + END + chain("start", "wait", "end"), extra=MESSAGE)


def test_a_process_variable_correlation_on_missing_data_names_the_catch_or_is_assumed_null(tmp_path: Path) -> None:
    path = _variable_correlation(tmp_path)
    real = json.loads(CliRunner().invoke(app, ["run", str(path), "--json"]).stdout)
    assert real["status"] == "failed" and "wait" in real["error"] and "order_id" in real["error"]
    simulated = json.loads(CliRunner().invoke(app, ["run", str(path), "--simulate", "--json"]).stdout)
    assert simulated["status"] == "waiting" and simulated["waiting"] == ["wait"]
    assert any("order_id" in s["assumed"] and "assumed null" in s["assumed"] for s in simulated["simulated"])
    given = json.loads(CliRunner().invoke(app, ["run", str(path), "--json", "--data", '{"order_id": 7}']).stdout)
    assert given["status"] == "waiting"


def test_output_parameters_see_the_input_parameters_of_their_task(tmp_path: Path) -> None:
    """Camunda 7 "Input/Output Variable Mapping" (and Zeebe's variable scopes): input parameters are local variables
    of the activity, and its output parameters are evaluated in that scope, so they can read them."""
    from .scenario import registry
    task = ('<bpmn:serviceTask id="calc" camunda:type="external" camunda:topic="calc"><bpmn:extensionElements>'
            '<camunda:inputOutput><camunda:inputParameter name="base">${price * 2}</camunda:inputParameter>'
            '<camunda:outputParameter name="result"><camunda:script scriptFormat="javascript">base + 1'
            '</camunda:script></camunda:outputParameter>'
            '<camunda:outputParameter name="result2">${base + extra}</camunda:outputParameter>'
            '</camunda:inputOutput></bpmn:extensionElements></bpmn:serviceTask>')
    seen = []
    handlers = registry(calc=lambda call: seen.append(call.params) or {"extra": 10})
    s = Scenario(write(tmp_path, START + task + END + chain("start", "calc", "end")), handlers, data={"price": 5})
    assert s.result.status == "completed", s.result.error
    assert seen == [{"base": 10}]
    assert s.result.data["result"] == 11 and s.result.data["result2"] == 20 and "base" not in s.result.data


def test_a_groovy_listener_or_parameter_script_is_skipped_in_a_simulation_and_refused_for_real(tmp_path: Path) -> None:
    task = ('<bpmn:serviceTask id="calc" camunda:class="com.acme.Calc"><bpmn:extensionElements>'
            '<camunda:inputOutput><camunda:inputParameter name="base"><camunda:script scriptFormat="groovy">1 + 1'
            '</camunda:script></camunda:inputParameter></camunda:inputOutput>'
            '<camunda:executionListener event="end"><camunda:script scriptFormat="groovy">println "x"'
            '</camunda:script></camunda:executionListener></bpmn:extensionElements></bpmn:serviceTask>')
    path = write(tmp_path, START + task + END + chain("start", "calc", "end"))
    out = json.loads(CliRunner().invoke(app, ["run", str(path), "--simulate", "--json"]).stdout)
    assert out["status"] == "completed", out
    assumed = [s["assumed"] for s in out["simulated"] if s["element_id"] == "calc"]
    assert any("listener in 'groovy' is skipped" in a for a in assumed)
    assert any("'groovy' script of parameter 'base'" in a for a in assumed)
    real = CliRunner().invoke(app, ["run", str(path)])
    assert real.exit_code == 3 and "groovy" in real.output


def test_validate_reads_a_non_ascii_attribute_name_without_an_internal_error(tmp_path: Path) -> None:
    """Found by the fuzz test on tests/data/unseen: the refusal check copied the tree through ASCII text, which
    garbles a non-ASCII attribute name (valid XML) into a parse error."""
    from bpmn_runner.lint import lint
    body = START + END + '<bpmn:sequenceFlow id="f1" soué€rceRef="start" targetRef="end"/>'
    findings = lint([write(tmp_path, body)])
    assert findings and not [f for f in findings if f.rule == "internal"], findings
