"""SpiffArena's environment (issue 14, items 3 and 4): the process-model tree, the script functions and modules of
SpiffArena's script tasks, dot access on dicts and secrets. Pages: SpiffArena docs "Script Tasks"
(https://spiff-arena.readthedocs.io/en/latest/Building_Diagrams/Script_Tasks.html), "Call Activity" and "Secrets";
the script functions are SpiffArena's spiffworkflow_backend/scripts (get_current_user, get_env, ...)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bpmn_runner import load
from bpmn_runner.cli import app

from .scenario import Scenario, definitions_xml, registry
from .test_elements import END, START, chain

SPIFF_PROCESS = definitions_xml


def script(tid: str, code: str) -> str:
    return f'<bpmn:scriptTask id="{tid}" name="{tid}"><bpmn:script>{code}</bpmn:script></bpmn:scriptTask>'


def write_model(folder: Path, name: str, body: str, process_id: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "process_model.json").write_text(json.dumps({"display_name": process_id}))
    path = folder / name
    path.write_text(definitions_xml(body, process_id=process_id))
    return path


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A SpiffArena tree: two groups; main calls a process that lives in the other group; a broken file beside."""
    root = tmp_path / "process_models"
    for group in ("orders", "shared", "broken"):
        (root / group).mkdir(parents=True)
        (root / group / "process_group.json").write_text(json.dumps({"display_name": group}))
    call = '<bpmn:callActivity id="call" calledElement="notify_customer"/>'
    write_model(root / "orders" / "place_order", "place_order.bpmn",
                START + call + END + chain("start", "call", "end"), "place_order")
    write_model(root / "shared" / "notify", "notify.bpmn",
                START + script("say", "notified = True") + END + chain("start", "say", "end"), "notify_customer")
    (root / "broken" / "garbage.bpmn").write_text("<not xml")
    return root


def test_a_called_process_is_found_anywhere_in_the_process_model_tree(tree: Path) -> None:
    main = tree / "orders" / "place_order" / "place_order.bpmn"
    definitions = load([main], search_siblings=True)
    assert any("notify_customer" in note for note in definitions.notes)
    s = Scenario(main, process_id="place_order")
    assert s.result.status == "completed" and s.result.data["notified"] is True


def test_models_names_the_tree_for_a_diagram_outside_it(tree: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    main = outside / "main.bpmn"
    main.write_text(definitions_xml(START + '<bpmn:callActivity id="call" calledElement="notify_customer"/>' + END +
                                    chain("start", "call", "end"), process_id="main"))
    assert CliRunner().invoke(app, ["run", str(main)]).exit_code == 3
    result = CliRunner().invoke(app, ["run", str(main), "--models", str(tree), "--json"])
    assert json.loads(result.stdout)["data"] == {"notified": True}


def test_script_functions_answer_from_the_settings_and_the_user(tmp_path: Path) -> None:
    code = ("who = get_current_user()['username']&#10;env = get_env()&#10;"
            "instance = get_toplevel_process_info()['process_model_identifier']&#10;url = get_frontend_url()")
    path = tmp_path / "d.bpmn"
    path.write_text(definitions_xml(START + script("s", code) + END + chain("start", "s", "end")))
    result = CliRunner().invoke(app, ["run", str(path), "--user", "alice", "--json"])
    data = json.loads(result.stdout)["data"]
    assert data == {"who": "alice", "env": "local", "instance": "p", "url": "http://localhost:7001"}


def test_spiffarena_modules_and_dot_access_work_in_the_sandbox(tmp_path: Path) -> None:
    code = ("n = payload.initial_var + 1&#10;year_ok = datetime.now().year &gt; 2000&#10;"
            "later = str(timedelta(days=1))&#10;text = json.dumps({'a': 1})&#10;"
            "ident = len(str(uuid.uuid4()))&#10;d = str(decimal.Decimal('1.5'))&#10;ok = bool(re.match('a', 'ab'))")
    path = tmp_path / "d.bpmn"
    path.write_text(definitions_xml(START + script("s", code) + END + chain("start", "s", "end")))
    s = Scenario(path, data={"payload": {"initial_var": 1}})
    assert s.result.status == "completed", s.result.error
    assert {k: v for k, v in s.result.data.items() if k != "payload"} == {
        "n": 2, "year_ok": True, "later": "1 day, 0:00:00", "text": '{"a": 1}', "ident": 36, "d": "1.5", "ok": True}


@pytest.mark.parametrize("code", ["x = uuid.os", "time.sleep(5)", "import os", "x = json.decoder"])
def test_the_script_modules_reach_nothing_else(tmp_path: Path, code: str) -> None:
    path = tmp_path / "d.bpmn"
    path.write_text(definitions_xml(START + script("s", code) + END + chain("start", "s", "end")))
    assert Scenario(path).result.status == "failed"


def test_a_secret_parameter_reaches_the_handler_and_never_the_data(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BPMN_RUNNER_SECRET_XERO_OAUTH", "s3cr3t")
    task = ('<bpmn:serviceTask id="call"><bpmn:extensionElements><spiffworkflow:serviceTaskOperator id="xero/Get" '
            'resultVariable="r"><spiffworkflow:parameters><spiffworkflow:parameter id="token" type="str" '
            'value="&quot;secret:xero/OAuth&quot;"/></spiffworkflow:parameters></spiffworkflow:serviceTaskOperator>'
            '</bpmn:extensionElements></bpmn:serviceTask>')
    path = tmp_path / "d.bpmn"
    path.write_text(definitions_xml(START + task + END + chain("start", "call", "end")))
    seen = []
    s = Scenario(path, registry(**{"xero/Get": lambda call: seen.append(call.params["token"]) or "ok"}))
    assert s.result.status == "completed", s.result.error
    assert seen == ["s3cr3t"]
    assert "s3cr3t" not in json.dumps(s.result.data) and "s3cr3t" not in json.dumps(s.instance.state())


def spiff_form_task(tmp_path: Path) -> Path:
    schema = {"type": "object", "required": ["amount"], "properties": {
        "amount": {"type": "integer", "title": "Amount"}, "note": {"type": "string"}}}
    (tmp_path / "ask-schema.json").write_text(json.dumps(schema))
    user = ('<bpmn:userTask id="ask" name="Ask"><bpmn:extensionElements><spiffworkflow:instructionsForEndUser>'
            'Enter the amount to refund</spiffworkflow:instructionsForEndUser><spiffworkflow:properties>'
            '<spiffworkflow:property name="formJsonSchemaFilename" value="ask-schema.json"/>'
            '</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>')
    path = tmp_path / "refund.bpmn"
    path.write_text(definitions_xml(START + user + END + chain("start", "ask", "end"), process_id="refund"))
    return path


def test_complete_checks_the_data_against_the_json_schema_and_names_the_field(tmp_path: Path) -> None:
    """SpiffArena forms are JSON schemas (react-jsonschema-form); the data a person submits must fit them."""
    db = f"sqlite:///{tmp_path / 'store.db'}"
    path = spiff_form_task(tmp_path)
    assert CliRunner().invoke(app, ["start", str(path), "--db", db]).exit_code == 0
    tasks = CliRunner().invoke(app, ["tasks", "--db", db])
    assert "instructions: Enter the amount to refund" in tasks.stdout and "amount:long" in tasks.stdout
    task_id = json.loads(CliRunner().invoke(app, ["tasks", "--db", db, "--json"]).stdout)["tasks"][0]["task_id"]
    wrong = CliRunner().invoke(app, ["complete", task_id, "--db", db, "--data", '{"amount": "ten"}'])
    assert wrong.exit_code == 2 and "field 'amount': 'ten' is not of type 'integer'" in wrong.stderr
    missing = CliRunner().invoke(app, ["complete", task_id, "--db", db, "--data", '{"note": "x"}'])
    assert missing.exit_code == 2 and "'amount' is required" in missing.stderr
    done = CliRunner().invoke(app, ["complete", task_id, "--db", db, "--data", '{"amount": 10}'])
    assert done.exit_code == 0, done.stderr


def test_show_prints_the_instructions_for_the_end_user(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'store.db'}"
    instance = CliRunner().invoke(app, ["start", str(spiff_form_task(tmp_path)), "--db", db]).stdout.strip()
    shown = CliRunner().invoke(app, ["show", instance, "--db", db])
    assert "instructions: Enter the amount to refund" in shown.stdout


def test_script_unit_tests_stored_in_the_diagram_run_with_the_test_command(tmp_path: Path) -> None:
    """SpiffArena "Script Tasks": unit tests give the script's input JSON and the output JSON it must leave."""
    def unit(test_id: str, given: str, expected: str) -> str:
        return (f'<spiffworkflow:unitTest id="{test_id}"><spiffworkflow:inputJson>{given}</spiffworkflow:inputJson>'
                f'<spiffworkflow:expectedOutputJson>{expected}</spiffworkflow:expectedOutputJson>'
                f'</spiffworkflow:unitTest>')
    task = ('<bpmn:scriptTask id="score"><bpmn:extensionElements><spiffworkflow:unitTests>'
            + unit("doubles", '{"a": 2}', '{"a": 2, "b": 4}') + unit("wrong", '{"a": 1}', '{"a": 1, "b": 3}')
            + '</spiffworkflow:unitTests></bpmn:extensionElements><bpmn:script>b = a * 2</bpmn:script>'
            '</bpmn:scriptTask>')
    path = tmp_path / "scored.bpmn"
    path.write_text(definitions_xml(START + task + END + chain("start", "score", "end")))
    result = CliRunner().invoke(app, ["test", str(path)])
    assert result.exit_code == 1
    assert "PASS" in result.stdout and "score unit test doubles" in result.stdout
    assert 'expected {"a": 1, "b": 3}, got {"a": 1, "b": 2}' in result.stdout
    assert "2 scenarios: 1 passed, 1 failed" in result.stdout


def test_the_definition_report_shows_what_an_analyst_reviews(tmp_path: Path) -> None:
    """Script bodies, pre/post scripts, form fields (also inside embedded sub-processes), the called decision
    (bound, not "unbound") and a link to a called process that is in the report."""
    schema = {"type": "object", "required": ["amount"], "properties": {"amount": {"type": "integer",
                                                                                  "title": "Amount"}}}
    (tmp_path / "ask-schema.json").write_text(json.dumps(schema))
    user = ('<bpmn:userTask id="ask" name="Ask"><bpmn:extensionElements><spiffworkflow:properties>'
            '<spiffworkflow:property name="formJsonSchemaFilename" value="ask-schema.json"/>'
            '</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>')
    sub = ('<bpmn:subProcess id="sub" name="Sub"><bpmn:startEvent id="s2"/>' + user +
           '<bpmn:sequenceFlow id="fs" sourceRef="s2" targetRef="ask"/></bpmn:subProcess>')
    rule = ('<bpmn:businessRuleTask id="rule" name="Price"><bpmn:extensionElements><spiffworkflow:calledDecisionId>'
            'prices</spiffworkflow:calledDecisionId><spiffworkflow:preScript>before = 1</spiffworkflow:preScript>'
            '</bpmn:extensionElements></bpmn:businessRuleTask>')
    body = (START + script("calc", "total = 2 * 21") + sub + rule + '<bpmn:callActivity id="call" calledElement="p"/>'
            + END + chain("start", "calc", "sub", "rule", "call", "end"))
    path = tmp_path / "review.bpmn"
    path.write_text(definitions_xml(body))
    out = tmp_path / "report.html"
    assert CliRunner().invoke(app, ["report", str(path), "-o", str(out)]).exit_code == 0
    html = out.read_text()
    assert "total = 2 * 21" in html and "pre-script" in html and "before = 1" in html
    assert "Amount (long, required)" in html
    assert "DMN decision prices" in html and "unbound" not in html
    assert 'href="#process-p"' in html and 'id="process-p"' in html


def test_a_missing_secret_fails_the_task_with_one_line_and_a_simulation_assumes_null(tmp_path: Path) -> None:
    task = ('<bpmn:serviceTask id="call"><bpmn:extensionElements><spiffworkflow:serviceTaskOperator id="xero/Get" '
            'resultVariable="r"><spiffworkflow:parameters><spiffworkflow:parameter id="token" type="str" '
            'value="&quot;secret:nowhere/KEY&quot;"/></spiffworkflow:parameters></spiffworkflow:serviceTaskOperator>'
            '</bpmn:extensionElements></bpmn:serviceTask>')
    path = tmp_path / "d.bpmn"
    path.write_text(definitions_xml(START + task + END + chain("start", "call", "end")))
    s = Scenario(path, registry(**{"xero/Get": lambda call: "ok"}))
    assert s.result.status == "failed"
    assert "BPMN_RUNNER_SECRET_NOWHERE_KEY" in s.result.error and "\n" not in s.result.error
    simulated = json.loads(CliRunner().invoke(app, ["run", str(path), "--simulate", "--json"]).stdout)
    assert simulated["status"] == "completed"
    assert any("secret 'nowhere/KEY' is not set" in s["assumed"] for s in simulated["simulated"])
