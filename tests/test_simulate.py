"""`run --simulate` walks any drawn diagram and lists what it assumed (issue 14, item 2; the analyst's view is
Camunda Modeler's token simulation, https://docs.camunda.io/docs/components/modeler/desktop-modeler/
token-simulation/: at a gateway the analyst picks the flow, conditions are not needed)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from bpmn_runner import Engine, load
from bpmn_runner.cli import app
from bpmn_runner.errors import InvalidOperationError

from .scenario import definitions_xml, write
from .test_elements import END, START, chain, flow

ROOT = Path(__file__).resolve().parents[1]
ORDER = ROOT / "processes" / "order_fulfillment.bpmn"


def simulate(*args: str) -> dict:
    result = CliRunner().invoke(app, ["run", *args, "--simulate", "--json"])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


def assumed(payload: dict, element_id: str) -> str:
    return " | ".join(s["assumed"] for s in payload["simulated"] if s["element_id"] == element_id)


def task(tid: str) -> str:
    return f'<bpmn:task id="{tid}" name="{tid}"/>'


def xor(extra: str = "") -> str:
    return f'<bpmn:exclusiveGateway id="gw" name="Which?" {extra}/>'


def fork_body(cond_a: str | None = None, cond_b: str | None = None, default: str = "") -> str:
    return (START + xor(default) + task("a") + task("b") + '<bpmn:endEvent id="endA"/><bpmn:endEvent id="endB"/>' +
            chain("start", "gw") + flow("fa", "gw", "a", cond_a) + flow("fb", "gw", "b", cond_b) +
            flow("fa2", "a", "endA") + flow("fb2", "b", "endB"))


def test_a_gateway_without_conditions_takes_the_first_flow_and_says_so(tmp_path: Path) -> None:
    payload = simulate(str(write(tmp_path, fork_body())))
    assert payload["status"] == "completed"
    assert "a" in payload["path"] and "b" not in payload["path"]
    note = assumed(payload, "gw")
    assert "has no condition" in note and "took the first flow fa" in note
    assert payload["choices"] == [{"element": "gw", "flow": "fa", "target": "a", "why": "first flow (undecidable)"}]


def test_a_condition_on_missing_data_takes_the_default_flow(tmp_path: Path) -> None:
    body = fork_body("${amount > 100}", None, default='default="fb"')
    payload = simulate(str(write(tmp_path, body)))
    assert "b" in payload["path"] and "a" not in payload["path"]
    assert "does not exist yet" in assumed(payload, "gw") and "default flow fb" in assumed(payload, "gw")


def test_a_decidable_condition_still_decides(tmp_path: Path) -> None:
    body = fork_body("${amount &gt; 100}", "${amount &lt;= 100}")
    result = CliRunner().invoke(app, ["run", str(write(tmp_path, body)), "--simulate", "--json",
                                      "--data", '{"amount": 5}'])
    payload = json.loads(result.stdout)
    assert "b" in payload["path"] and payload["simulated"] == []


def test_an_xpath_condition_is_undecidable_not_an_error(tmp_path: Path) -> None:
    xpath = ('<bpmn:sequenceFlow id="fa" sourceRef="gw" targetRef="a"><bpmn:conditionExpression '
             'xsi:type="bpmn:tFormalExpression" language="http://www.w3.org/1999/XPath">count(/x) &gt; 1'
             '</bpmn:conditionExpression></bpmn:sequenceFlow>')
    body = fork_body().replace(flow("fa", "gw", "a"), xpath)
    path = write(tmp_path, body)
    payload = simulate(str(path))
    assert payload["status"] == "completed" and "XPath" in assumed(payload, "gw")
    real = CliRunner().invoke(app, ["run", str(path), "--json"])
    assert real.exit_code == 3 and "not supported" in real.stdout


def test_a_condition_that_cannot_parse_is_undecidable_in_a_simulation_and_refused_for_real(tmp_path: Path) -> None:
    """A half-drawn condition (here `priority = 'Emergency'`, not Python) would stop a real run at load (exit 3);
    the simulation walks on and says which flow it took and why."""
    path = write(tmp_path, fork_body("priority = 'Emergency'", None, default='default="fb"'))
    payload = simulate(str(path))
    assert payload["status"] == "completed" and "b" in payload["path"]
    assert "cannot be parsed" in assumed(payload, "gw")
    real = CliRunner().invoke(app, ["run", str(path), "--json"])
    assert real.exit_code == 3 and "cannot parse" in real.stdout


def test_choose_walks_the_flow_the_analyst_picks(tmp_path: Path) -> None:
    path = str(write(tmp_path, fork_body()))
    assert "b" in simulate(path, "--choose", "gw=fb")["path"]
    assert "b" in simulate(path, "--choose", "gw=b")["path"]  # the target's id works too
    wrong = CliRunner().invoke(app, ["run", path, "--simulate", "--choose", "gw=nope"])
    assert wrong.exit_code != 0 and "its flows are fa, fb" in wrong.output


def test_choose_needs_simulate(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["run", str(write(tmp_path, fork_body())), "--choose", "gw=fb"])
    assert result.exit_code == 2 and "add --simulate" in result.output


def test_random_with_a_seed_is_repeatable_and_walks_both_ways(tmp_path: Path) -> None:
    path = str(write(tmp_path, fork_body()))
    ends = {seed: simulate(path, "--random", str(seed))["path"][-1] for seed in range(12)}
    assert set(ends.values()) == {"endA", "endB"}
    assert all(simulate(path, "--random", str(seed))["path"][-1] == end for seed, end in list(ends.items())[:3])


def test_all_paths_walks_every_path_of_the_order_example_in_one_command() -> None:
    """Two stock branches times seven outcomes: a small order, or a large one approved by a person, each shipped,
    card declined, or the saga (no carrier: the completed steps are compensated, last completed first, then the
    order is refunded); or a large order rejected."""
    result = CliRunner().invoke(app, ["run", str(ORDER), "--simulate", "--all-paths"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "order_fulfillment: 14 path(s)"
    assert sum("Flow_InStockYes" in line for line in lines) == 7
    assert sum("Event_CardDeclined ⇒ completed at Event_OrderCancelled" in line for line in lines) == 4
    assert sum("Event_NoCarrier ⇒ completed at Event_OrderRefunded" in line for line in lines) == 4
    assert sum("completed at Event_OrderShipped" in line for line in lines) == 4
    assert sum("completed at Event_OrderRejected" in line for line in lines) == 2
    payload = json.loads(CliRunner().invoke(app, ["run", str(ORDER), "--simulate", "--all-paths",
                                                  "--json"]).stdout)
    assert [p["end"] for p in payload["paths"]].count(["Event_OrderShipped"]) == 4
    assert payload["truncated"] is False
    sagas = [p["path"] for p in payload["paths"] if p["end"] == ["Event_OrderRefunded"]]
    reserved = [path for path in sagas if "Activity_ReserveStock" in path]
    assert len(sagas) == 4 and len(reserved) == 2
    undo = [e for e in reserved[0] if e in ("Activity_RefundPayment", "Activity_ReleaseStock")]
    assert undo == ["Activity_RefundPayment", "Activity_ReleaseStock"]  # the charge came after the reservation
    back_ordered = next(path for path in sagas if "Activity_ReserveStock" not in path)
    assert "Activity_RefundPayment" in back_ordered and "Activity_ReleaseStock" not in back_ordered


def test_a_compensation_boundary_event_without_a_handler_is_dropped_in_a_simulation(tmp_path: Path) -> None:
    """A real run refuses it at load (tests/test_elements.py); a diagram still being drawn walks on."""
    boundary = ('<bpmn:boundaryEvent id="undo" attachedToRef="t"><bpmn:compensateEventDefinition/>'
                '</bpmn:boundaryEvent>')
    body = START + '<bpmn:task id="t"/>' + boundary + END + chain("start", "t", "end")
    payload = simulate(str(write(tmp_path, body)))
    assert payload["status"] == "completed" and "no single handler" in assumed(payload, "t")


def test_all_paths_is_bounded(tmp_path: Path) -> None:
    gateways = "".join(f'<bpmn:exclusiveGateway id="g{i}"/>' for i in range(6))
    flows = "".join(flow(f"x{i}", f"g{i}", f"g{i + 1}") + flow(f"y{i}", f"g{i}", f"g{i + 1}") for i in range(5))
    body = START + gateways + END + flow("s", "start", "g0") + flows + flow("e", "g5", "end")
    result = CliRunner().invoke(app, ["run", str(write(tmp_path, body)), "--simulate", "--all-paths",
                                      "--max-paths", "5", "--json"])
    payload = json.loads(result.stdout)
    assert len(payload["paths"]) == 5 and payload["truncated"] is True


def test_a_timer_without_a_time_fires_at_once(tmp_path: Path) -> None:
    timer = '<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition/></bpmn:intermediateCatchEvent>'
    payload = simulate(str(write(tmp_path, START + timer + END + chain("start", "wait", "end"))))
    assert payload["status"] == "completed" and "fires at once" in assumed(payload, "wait")


def test_a_missing_called_process_and_decision_complete_as_stubs(tmp_path: Path) -> None:
    body = (START + '<bpmn:callActivity id="call" calledElement="elsewhere"/>' +
            '<bpmn:businessRuleTask id="rule" camunda:decisionRef="nowhere"/>' + END +
            chain("start", "call", "rule", "end"))
    path = write(tmp_path, body)
    payload = simulate(str(path))
    assert payload["status"] == "completed"
    assert "'elsewhere' was not found; completed as a stub" in assumed(payload, "call")
    assert "'nowhere' was not found" in assumed(payload, "rule")


def test_a_groovy_script_and_a_listener_without_handler_are_skipped_in_a_simulation_only(tmp_path: Path) -> None:
    script = ('<bpmn:scriptTask id="gv" scriptFormat="groovy"><bpmn:extensionElements>'
              '<camunda:executionListener class="org.Foo" event="start"/></bpmn:extensionElements>'
              '<bpmn:script>execution.setVariable("x", 1)</bpmn:script></bpmn:scriptTask>')
    path = write(tmp_path, START + script + END + chain("start", "gv", "end"))
    payload = simulate(str(path))
    assert payload["status"] == "completed"
    assert "'groovy' cannot run" in assumed(payload, "gv") and "listener 'org.Foo' has no handler" in \
        assumed(payload, "gv")
    assert CliRunner().invoke(app, ["run", str(path)]).exit_code == 3


def test_bpmn_engine_javascript_runs_with_its_conventions(tmp_path: Path) -> None:
    """bpmn-engine (https://github.com/paed01/bpmn-engine, "Script task"): environment.variables in,
    environment.output out, next(err, result) to finish; an error passed to next fails the task in a real run and
    is skipped with a note in a simulation (issue 14, item 5)."""
    code = ("const total = environment.variables.a + this.environment.variables.b;&#10;"
            "environment.output.total = total;&#10;next(null, {total});")
    tasks = (f'<bpmn:scriptTask id="sum" scriptFormat="javascript"><bpmn:script>{code}</bpmn:script>'
             '</bpmn:scriptTask><bpmn:scriptTask id="pay" scriptFormat="javascript"><bpmn:script>'
             'next(new Error("card declined"));</bpmn:script></bpmn:scriptTask>')
    path = str(write(tmp_path, START + tasks + END + chain("start", "sum", "pay", "end")))
    real = json.loads(CliRunner().invoke(app, ["run", path, "--json", "--data", '{"a": 2, "b": 3}']).stdout)
    assert real["status"] == "failed" and real["data"]["total"] == 5
    assert "Error: card declined" in real["error"] and "\n" not in real["error"]
    walked = json.loads(CliRunner().invoke(app, ["run", path, "--json", "--simulate", "--data",
                                                 '{"a": 2, "b": 3}']).stdout)
    assert walked["status"] == "completed" and walked["data"]["total"] == 5
    assert "card declined" in assumed(walked, "pay") and "skipped" in assumed(walked, "pay")


def test_a_script_reading_missing_data_is_skipped_with_a_note(tmp_path: Path) -> None:
    script = '<bpmn:scriptTask id="s"><bpmn:script>total = price * 2</bpmn:script></bpmn:scriptTask>'
    payload = simulate(str(write(tmp_path, START + script + END + chain("start", "s", "end"))))
    assert payload["status"] == "completed"
    assert "unknown variable 'price'" in assumed(payload, "s") and "skipped" in assumed(payload, "s")


def test_user_tasks_complete_with_data_from_their_camunda_form(tmp_path: Path) -> None:
    user = ('<bpmn:userTask id="ask"><bpmn:extensionElements><camunda:formData>'
            '<camunda:formField id="amount" type="long" defaultValue="250"/>'
            '<camunda:formField id="ok" type="boolean"/>'
            '<camunda:formField id="size" type="enum"><camunda:value id="S"/><camunda:value id="M"/>'
            '</camunda:formField></camunda:formData></bpmn:extensionElements></bpmn:userTask>')
    script = '<bpmn:scriptTask id="use"><bpmn:script>big = amount > 100</bpmn:script></bpmn:scriptTask>'
    payload = simulate(str(write(tmp_path, START + user + script + END + chain("start", "ask", "use", "end"))))
    assert payload["data"] == {"amount": 250, "ok": False, "size": "S", "big": True}
    assert "simulated person" in assumed(payload, "ask")


def test_user_tasks_complete_with_data_from_a_spiffarena_json_schema(tmp_path: Path) -> None:
    schema = {"type": "object", "properties": {
        "name": {"type": "string", "examples": ["Ada"]}, "color": {"enum": ["red", "blue"]},
        "count": {"type": "integer", "default": 3}, "address": {"type": "object", "properties": {
            "city": {"type": "string"}}}}}
    (tmp_path / "ask-schema.json").write_text(json.dumps(schema))
    user = ('<bpmn:userTask id="ask"><bpmn:extensionElements><spiffworkflow:properties>'
            '<spiffworkflow:property name="formJsonSchemaFilename" value="ask-schema.json"/>'
            '</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>')
    payload = simulate(str(write(tmp_path, START + user + END + chain("start", "ask", "end"))))
    assert payload["data"] == {"name": "Ada", "color": "red", "count": 3, "address": {"city": ""}}


def test_a_loop_nothing_decides_is_left_after_a_bounded_number_of_rounds(tmp_path: Path) -> None:
    body = (START + task("work") + xor() + END + chain("start", "work", "gw") + flow("back", "gw", "work") +
            flow("out", "gw", "end", "${done}"))
    payload = simulate(str(write(tmp_path, body)))
    assert payload["status"] == "completed"
    assert payload["path"].count("work") == 21
    assert "left the loop" in assumed(payload, "gw")


def test_max_steps_keeps_its_meaning(tmp_path: Path) -> None:
    body = START + "".join(task(f"t{i}") for i in range(8)) + END + chain("start", *[f"t{i}" for i in range(8)],
                                                                           "end")
    result = CliRunner().invoke(app, ["run", str(write(tmp_path, body)), "--simulate", "--max-steps", "4",
                                      "--json"])
    payload = json.loads(result.stdout)
    assert result.exit_code == 1 and "4 steps" in payload["error"]


def test_definitions_loaded_for_a_simulation_do_not_run_for_real(tmp_path: Path) -> None:
    definitions = load([write(tmp_path, fork_body())], simulate=True)
    try:
        Engine().start(definitions, "p")
    except InvalidOperationError as exc:
        assert "loaded for a simulation" in str(exc)
    else:
        raise AssertionError("a real run of rewritten definitions must be refused")
    assert Engine(simulate=True).start(definitions, "p").run().status == "completed"


def test_user_tasks_complete_with_data_from_an_embedded_camunda_8_form(tmp_path: Path) -> None:
    """Camunda 8 user task forms (form-js): components with key, type, defaultValue and values."""
    form = json.dumps({"id": "f1", "components": [
        {"key": "amount", "type": "number", "label": "Amount", "defaultValue": 30},
        {"key": "approved", "type": "checkbox", "label": "Approved"},
        {"type": "group", "components": [{"key": "level", "type": "select",
                                          "values": [{"label": "Low", "value": "low"}]}]}]})
    extra = ('<bpmn:extensionElements><zeebe:userTaskForm id="UserTaskForm_1">'
             f'{form.replace("&", "&amp;").replace("<", "&lt;")}</zeebe:userTaskForm></bpmn:extensionElements>')
    user = ('<bpmn:userTask id="ask"><bpmn:extensionElements><zeebe:formDefinition '
            'formKey="camunda-forms:bpmn:UserTaskForm_1"/></bpmn:extensionElements></bpmn:userTask>')
    path = tmp_path / "c8.bpmn"
    xml = definitions_xml(START + user + END + chain("start", "ask", "end"))
    xml = xml.replace('<bpmn:process id="p" isExecutable="true">', '<bpmn:process id="p" isExecutable="true">' + extra,
                      1)
    path.write_text(xml)
    payload = simulate(str(path))
    assert payload["data"] == {"amount": 30, "approved": False, "level": "low"}


def test_a_cycle_timer_starting_an_event_sub_process_fires_once_at_once(tmp_path: Path) -> None:
    body = (START + '<bpmn:userTask id="work"/>' + END + chain("start", "work", "end") +
            '<bpmn:subProcess id="remind" triggeredByEvent="true"><bpmn:startEvent id="every" isInterrupting="false">'
            '<bpmn:timerEventDefinition><bpmn:timeCycle>R/P5D</bpmn:timeCycle></bpmn:timerEventDefinition>'
            '</bpmn:startEvent><bpmn:scriptTask id="nag"><bpmn:script>nagged = True</bpmn:script></bpmn:scriptTask>'
            '<bpmn:endEvent id="e2"/>' + flow("g1", "every", "nag") + flow("g2", "nag", "e2") + '</bpmn:subProcess>')
    payload = simulate(str(write(tmp_path, body)))
    assert payload["path"].count("nag") == 1 and "fired at once" in assumed(payload, "every")
    assert payload["status"] == "waiting" and payload["waiting"] == ["every"]  # an endless cycle: its next round


def test_a_conditional_event_without_condition_and_a_link_without_catch_walk_in_a_simulation(tmp_path: Path) -> None:
    catch = ('<bpmn:intermediateCatchEvent id="when"><bpmn:conditionalEventDefinition><bpmn:condition/>'
             '</bpmn:conditionalEventDefinition></bpmn:intermediateCatchEvent>')
    link = ('<bpmn:intermediateThrowEvent id="jump"><bpmn:linkEventDefinition name="nowhere"/>'
            '</bpmn:intermediateThrowEvent>')
    payload = simulate(str(write(tmp_path, START + catch + link + chain("start", "when", "jump"))))
    assert payload["status"] == "completed" and payload["path"][-1] == "jump"
    assert "fires at once" in assumed(payload, "when") and "the path ends here" in assumed(payload, "jump")


def test_a_process_that_calls_itself_is_walked_to_a_bounded_depth(tmp_path: Path) -> None:
    body = START + '<bpmn:callActivity id="again" calledElement="p"/>' + END + chain("start", "again", "end")
    path = write(tmp_path, body)
    payload = simulate(str(path))
    assert payload["status"] == "completed"
    assert "does a process call itself?" in assumed(payload, "again")
    real = json.loads(CliRunner().invoke(app, ["run", str(path), "--json"]).stdout)
    assert real["status"] == "failed" and "call itself" in real["error"]
