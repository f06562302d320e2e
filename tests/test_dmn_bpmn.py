"""Business rule tasks evaluate DMN decisions as Camunda does, from `run` and from `decide`.

- Camunda 7: camunda:decisionRef, camunda:resultVariable and camunda:mapDecisionResult (singleEntry, singleResult,
  collectEntries, resultList; default resultList), per docs.camunda.org/manual/latest/user-guide/process-engine/
  decisions/bpmn-cmmn/ and the dinner decision graph of docs.camunda.org/manual/latest/reference/dmn/drg/.
- Camunda 8: zeebe:calledDecision decisionId + resultVariable holds the decision's value as Zeebe shapes it (one
  output: its value, several: a context; dates as ISO strings), per
  docs.camunda.io/docs/components/modeler/bpmn/business-rule-tasks/.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bpmn_runner import decide, feel, load
from bpmn_runner.cli import app

from .scenario import Scenario, write

DATA = Path(__file__).parent / "data" / "dmn"
runner = CliRunner()


@pytest.mark.parametrize("season, guests, children, dish, beverages", [
    ("Spring", 14, False, "Stew", ["Guiness", "Water"]),
    ("Spring", 7, True, "Steak", ["Pinot Noir", "Apple Juice"]),
    ("Fall", 3, False, "Spareribs", ["Aecht Schlenkerla Rauchbier", "Water"]),
])
def test_camunda7_dinner_decisions_from_run(season: str, guests: int, children: bool, dish: str,
                                            beverages: list[str]) -> None:
    data = {"season": season, "guestCount": guests, "guestsWithChildren": children}
    s = Scenario([DATA / "dinner_c7.bpmn", DATA / "dinnerDecisions.dmn"], data=data)
    assert s.result.status == "completed", s.result.error
    assert s.result.data["dish"] == dish                      # singleEntry
    assert s.result.data["beverages"] == beverages            # collectEntries
    assert s.result.data["rows"] == [{"beverages": b} for b in beverages]   # resultList (the default)


def test_camunda7_dinner_decisions_from_decide() -> None:
    result = decide([DATA / "dinnerDecisions.dmn"], None,
                    {"season": "Spring", "guestCount": 14, "guestsWithChildren": False})
    assert result.decision_id == "beverages"
    assert result.value == ["Guiness", "Water"]
    assert result.results == {"Dish": "Stew", "Beverages": ["Guiness", "Water"]}
    assert result.matched_rules == {"dish": ["row-495762709-5"], "beverages": ["row-506282952-8",
                                                                              "row-506282952-12"]}


def test_decide_command_prints_one_json_object() -> None:
    out = runner.invoke(app, ["decide", str(DATA / "dinnerDecisions.dmn"), "--decision", "Dish", "--data",
                              '{"season": "Winter", "guestCount": 4}', "--json"])
    assert out.exit_code == 0, out.output
    shaped = json.loads(out.stdout)
    assert shaped["decision"] == "dish" and shaped["result"] == "Roastbeef"
    assert shaped["results"] == {"Dish": "Roastbeef"}


def test_decide_command_names_a_missing_decision() -> None:
    out = runner.invoke(app, ["decide", str(DATA / "dinnerDecisions.dmn"), "--decision", "dessert", "--data", "{}"])
    assert out.exit_code == 3
    assert "dessert" in out.output and "dish (Dish)" in out.output


@pytest.mark.parametrize("order_date, express, carrier, due", [
    ("2024-12-24", True, "post", "2025-01-03"),
    ("2024-05-02", True, "courier", "2024-05-03"),
    ("2024-05-02", False, "post", "2024-05-05"),
])
def test_camunda8_decision_with_dates_from_run_and_decide(order_date: str, express: bool, carrier: str,
                                                          due: str) -> None:
    data = {"orderDate": order_date, "express": express}
    s = Scenario([DATA / "shipping_c8.bpmn", DATA / "shipping_c8.dmn"], data=data)
    assert s.result.status == "completed", s.result.error
    assert s.result.data["delivery"] == {"carrier": carrier, "due": due}
    assert feel.to_json(decide([DATA / "shipping_c8.dmn"], "delivery", data).value) == {"carrier": carrier,
                                                                                         "due": due}


def test_matched_rules_are_recorded_in_history() -> None:
    data = {"season": "Spring", "guestCount": 14, "guestsWithChildren": False}
    s = Scenario([DATA / "dinner_c7.bpmn", DATA / "dinnerDecisions.dmn"], data=data)
    details = {e.element_id: e.detail for e in s.result.history if e.event == "completed"}
    assert details["decide_dish"] == "matched rules: row-495762709-5"
    assert details["decide_beverages"] == "matched rules: row-506282952-8, row-506282952-12"


def test_a_stored_definition_keeps_its_decisions_and_bindings() -> None:
    from bpmn_runner._spiff.serializer import spec_from_json, spec_to_json
    definitions = load([DATA / "dinner_c7.bpmn", DATA / "dinnerDecisions.dmn"])
    spec, subprocesses = definitions.built.spec("dinner")  # the parsed spec stays inside `built`
    family = definitions.built.family
    restored, _ = spec_from_json(family, spec_to_json(family, spec, subprocesses))
    task = restored.task_specs["decide_beverages"]
    assert task.decision["decision_ref_binding"] == "versionTag" and task.decision["version_tag"] == "v2"
    assert task.engine.model.find_decision("beverages")[1].name == "Beverages"


def test_mapping_that_does_not_fit_fails_the_task_with_the_reason(tmp_path: Path) -> None:
    (tmp_path / "dinner.dmn").write_text((DATA / "dinnerDecisions.dmn").read_text())
    task = ('<bpmn:businessRuleTask id="t" camunda:decisionRef="beverages" camunda:resultVariable="b" '
            'camunda:mapDecisionResult="singleEntry"/>')
    body = ('<bpmn:startEvent id="start"/>' + task + '<bpmn:endEvent id="end"/>'
            '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="t"/>'
            '<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="end"/>')
    s = Scenario(write(tmp_path, body), data={"season": "Spring", "guestCount": 14, "guestsWithChildren": False})
    assert s.result.status == "failed"
    assert "singleEntry" in s.result.error and "collectEntries" in s.result.error


def test_instance_report_names_the_matched_rules() -> None:
    from bpmn_runner.report import render_instance_report
    data = {"season": "Winter", "guestCount": 4, "guestsWithChildren": True}
    paths = [DATA / "dinner_c7.bpmn", DATA / "dinnerDecisions.dmn"]
    s = Scenario(paths, data=data)
    page = render_instance_report([str(p) for p in paths], s.result)  # type: ignore[arg-type]
    assert "matched rules: row-495762709-2" in page
    assert "matched rules: row-506282952-9, row-506282952-11" in page
    from lxml import html
    tree = html.fromstring(page)
    marked = tree.xpath("//table[contains(@class,'decision-table')]//tr[contains(@class,'matched')]/@data-rule-id")
    assert sorted(marked) == ["row-495762709-2", "row-506282952-11", "row-506282952-9"]


def test_tck_values_are_read_with_their_xsd_types(tmp_path: Path) -> None:
    import datetime as dt
    from decimal import Decimal
    from bpmn_runner.loader.tck import read_tck_file
    (tmp_path / "x-test-01.xml").write_text(
        '<testCases xmlns="http://www.omg.org/spec/DMN/20160719/testcase" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">'
        '<modelName>x.dmn</modelName><testCase id="1" invocableName="svc" type="decisionService">'
        '<inputNode name="n"><value xsi:type="xsd:decimal">1.50</value></inputNode>'
        '<inputNode name="d"><value xsi:type="xsd:date">2018-07-30</value></inputNode>'
        '<inputNode name="p"><value xsi:type="xsd:duration">P1Y2M</value></inputNode>'
        '<inputNode name="c"><component name="a"><value xsi:type="xsd:boolean">true</value></component>'
        '<component name="b"><list><item><value xsi:nil="true"/></item></list></component></inputNode>'
        '<resultNode name="r" errorResult="true"><expected><value xsi:nil="true"/></expected></resultNode>'
        '</testCase></testCases>', encoding="utf-8")
    [case] = read_tck_file(tmp_path / "x-test-01.xml").cases
    values = {i.name: i.value for i in case.inputs}
    assert values["n"] == Decimal("1.5") and values["d"] == dt.date(2018, 7, 30)
    assert values["p"] == feel.YearsMonthsDuration(14)
    assert values["c"] == {"a": True, "b": [None]}
    assert case.invocable == "svc" and case.kind == "decisionService" and case.results[0].error_result


def test_decision_chosen_at_run_time_by_expression(tmp_path: Path) -> None:
    """Camunda 8 allows `decisionId="= ..."` (docs.camunda.io/docs/components/modeler/bpmn/business-rule-tasks/)."""
    (tmp_path / "dinner.dmn").write_text((DATA / "dinnerDecisions.dmn").read_text())
    task = ('<bpmn:businessRuleTask id="t"><bpmn:extensionElements><zeebe:calledDecision '
            'decisionId="= which" resultVariable="out"/></bpmn:extensionElements></bpmn:businessRuleTask>')
    body = ('<bpmn:startEvent id="start"/>' + task + '<bpmn:endEvent id="end"/>'
            '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="t"/>'
            '<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="end"/>')
    path = write(tmp_path, body)
    s = Scenario([path, tmp_path / "dinner.dmn"], data={"which": "dish", "season": "Fall", "guestCount": 2})
    assert s.result.status == "completed", s.result.error
    assert s.result.data["out"] == "Spareribs"
    s = Scenario([path, tmp_path / "dinner.dmn"], data={"which": "nothing", "season": "Fall", "guestCount": 2})
    assert s.result.status == "failed" and "nothing" in s.result.error


def test_spiffworkflow_python_cells_keep_running_in_a_camunda_diagram(tmp_path: Path) -> None:
    """DMN cells marked expressionLanguage="python" (SpiffWorkflow's examples) stay on SpiffWorkflow's evaluator."""
    (tmp_path / "costs.dmn").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" '
        'id="d" name="d" namespace="http://camunda.org/schema/1.0/dmn"><decision id="shipping_costs" name="Costs">'
        '<decisionTable id="t"><input id="i"><inputExpression id="e" typeRef="string" expressionLanguage="python">'
        '<text>shipping_method.lower()</text></inputExpression></input><output id="o" name="shipping_cost"/>'
        '<rule id="r1"><inputEntry id="a"><text>"standard"</text></inputEntry><outputEntry id="b"><text>5.00</text>'
        '</outputEntry></rule></decisionTable></decision></definitions>', encoding="utf-8")
    task = '<bpmn:businessRuleTask id="t" camunda:decisionRef="shipping_costs"/>'
    body = ('<bpmn:startEvent id="start"/>' + task + '<bpmn:endEvent id="end"/>'
            '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="t"/>'
            '<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="end"/>')
    s = Scenario(write(tmp_path, body), data={"shipping_method": "STANDARD"})
    assert s.result.status == "completed", s.result.error
    assert s.result.data["shipping_cost"] == 5.0


def test_decide_command_exits_1_with_the_evaluation_error(tmp_path: Path) -> None:
    path = tmp_path / "u.dmn"
    path.write_text('<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="d" namespace="u">'
                    '<decision id="d" name="D"><decisionTable><input><inputExpression><text>x</text>'
                    '</inputExpression></input><output name="o"/><rule id="a"><inputEntry><text>&gt; 1</text>'
                    '</inputEntry><outputEntry><text>1</text></outputEntry></rule><rule id="b"><inputEntry>'
                    '<text>&gt; 2</text></inputEntry><outputEntry><text>2</text></outputEntry></rule></decisionTable>'
                    '</decision></definitions>', encoding="utf-8")
    out = runner.invoke(app, ["decide", str(path), "--data", '{"x": 5}', "--json"])
    assert out.exit_code == 1
    assert json.loads(out.stdout)["result"] is None
    assert "UNIQUE" in out.stderr and "a, b" in out.stderr


def _one_task_body(task: str) -> str:
    return ('<bpmn:startEvent id="start"/>' + task + '<bpmn:endEvent id="end"/>'
            '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="t"/>'
            '<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="end"/>')


def test_camunda7_without_result_variable_stores_nothing(tmp_path: Path) -> None:
    """Camunda 7: "The output of the decision, also called decision result, is not saved as process variable
    automatically" (docs.camunda.org/manual/latest/reference/bpmn20/tasks/business-rule-task/, "Using Camunda DMN
    Engine"); only camunda:resultVariable stores it. SpiffArena's calledDecisionId keeps merging the outputs."""
    (tmp_path / "dinner.dmn").write_text((DATA / "dinnerDecisions.dmn").read_text())
    data = {"season": "Fall", "guestCount": 2}
    bare = write(tmp_path, _one_task_body('<bpmn:businessRuleTask id="t" camunda:decisionRef="dish"/>'))
    s = Scenario([bare, tmp_path / "dinner.dmn"], data=data)
    assert s.result.status == "completed", s.result.error
    assert set(s.result.data) == set(data)
    named = write(tmp_path, _one_task_body('<bpmn:businessRuleTask id="t" camunda:decisionRef="dish" '
                                           'camunda:resultVariable="meal" camunda:mapDecisionResult="singleEntry"/>'),
                  name="named.bpmn")
    s = Scenario([named, tmp_path / "dinner.dmn"], data=data)
    assert s.result.data["meal"] == "Spareribs" and "desiredDish" not in s.result.data
    (tmp_path / "discount.dmn").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" '
        'id="d" name="d" namespace="http://camunda.org/schema/1.0/dmn"><decision id="discount" name="Discount">'
        '<decisionTable id="dt"><input id="i1"><inputExpression id="e1" typeRef="string"><text>tier</text>'
        '</inputExpression></input><output id="o1" name="discount" typeRef="integer"/><rule id="r1"><inputEntry '
        'id="ie1"><text>"gold"</text></inputEntry><outputEntry id="oe1"><text>10</text></outputEntry></rule>'
        '</decisionTable></decision></definitions>', encoding="utf-8")
    spiff = write(tmp_path, _one_task_body(
        '<bpmn:businessRuleTask id="t"><bpmn:extensionElements><spiffworkflow:calledDecisionId>discount'
        '</spiffworkflow:calledDecisionId></bpmn:extensionElements></bpmn:businessRuleTask>'), name="spiff.bpmn")
    s = Scenario([spiff, tmp_path / "discount.dmn"], data={"tier": "gold"})
    assert s.result.status == "completed", s.result.error
    assert s.result.data["discount"] == 10


@pytest.mark.parametrize("task", [
    '<bpmn:businessRuleTask id="t" camunda:decisionRef="${which}" camunda:resultVariable="out" '
    'camunda:mapDecisionResult="singleEntry"/>',
    '<bpmn:businessRuleTask id="t"><bpmn:extensionElements><zeebe:calledDecision decisionId="= which" '
    'resultVariable="out"/></bpmn:extensionElements></bpmn:businessRuleTask>',
])
def test_decision_chosen_at_run_time_is_found_beside_the_diagram(tmp_path: Path, task: str) -> None:
    """`camunda:decisionRef="${expr}"` (docs.camunda.org/manual/latest/reference/bpmn20/tasks/business-rule-task/)
    and `decisionId="= expr"` (docs.camunda.io/docs/components/modeler/bpmn/business-rule-tasks/): the DMN file
    beside the diagram is searched as for a static reference, though only the diagram is named."""
    (tmp_path / "dinner.dmn").write_text((DATA / "dinnerDecisions.dmn").read_text())
    path = write(tmp_path, _one_task_body(task))
    s = Scenario(path, data={"which": "dish", "season": "Fall", "guestCount": 2})
    assert s.result.status == "completed", s.result.error
    assert s.result.data["out"] == "Spareribs"
    assert any("dinner.dmn" in note for note in s.definitions.notes)


def test_camunda7_output_mapping_reads_decision_result(tmp_path: Path) -> None:
    """Camunda 7: "the decision result ... has to pass into a process variable by using a predefined or a custom
    mapping"; a custom mapping is an output parameter reading `decisionResult` (DmnDecisionResult:
    getSingleResult(), getSingleEntry(), collectEntries(name), getResultList()) -- docs.camunda.org/manual/latest/
    reference/bpmn20/tasks/business-rule-task/ ("Using Camunda DMN Engine") and .../user-guide/process-engine/
    decisions/bpmn-cmmn/ ("The Decision Result"). An input parameter is a local variable the decision reads."""
    (tmp_path / "dinner.dmn").write_text((DATA / "dinnerDecisions.dmn").read_text())
    task = ('<bpmn:businessRuleTask id="t" camunda:decisionRef="beverages"><bpmn:extensionElements>'
            '<camunda:inputOutput><camunda:inputParameter name="season">Spring</camunda:inputParameter>'
            '<camunda:outputParameter name="drinks">${decisionResult.collectEntries("beverages")}'
            '</camunda:outputParameter>'
            '<camunda:outputParameter name="first">${decisionResult.getFirstResult().beverages}'
            '</camunda:outputParameter>'
            '<camunda:outputParameter name="count">${decisionResult.size()}</camunda:outputParameter>'
            '<camunda:outputParameter name="rows">${decisionResult.resultList}</camunda:outputParameter>'
            '</camunda:inputOutput></bpmn:extensionElements></bpmn:businessRuleTask>')
    s = Scenario([write(tmp_path, _one_task_body(task)), tmp_path / "dinner.dmn"],
                 data={"season": "Fall", "guestCount": 14, "guestsWithChildren": False})
    assert s.result.status == "completed", s.result.error
    assert s.result.data["drinks"] == ["Guiness", "Water"]          # Spring, from the input parameter: Stew
    assert s.result.data["first"] == "Guiness" and s.result.data["count"] == 2
    assert s.result.data["rows"] == [{"beverages": "Guiness"}, {"beverages": "Water"}]
    assert s.result.data["season"] == "Fall", "an input parameter is local to the task"
    assert "decisionResult" not in s.result.data

    single = ('<bpmn:businessRuleTask id="t" camunda:decisionRef="dish"><bpmn:extensionElements>'
              '<camunda:inputOutput><camunda:outputParameter name="meal">'
              '${decisionResult.getSingleResult().desiredDish}</camunda:outputParameter>'
              '<camunda:outputParameter name="entry">${decisionResult.singleEntry}</camunda:outputParameter>'
              '</camunda:inputOutput></bpmn:extensionElements></bpmn:businessRuleTask>')
    s = Scenario([write(tmp_path, _one_task_body(single), name="single.bpmn"), tmp_path / "dinner.dmn"],
                 data={"season": "Fall", "guestCount": 2})
    assert s.result.status == "completed", s.result.error
    assert s.result.data["meal"] == "Spareribs" and s.result.data["entry"] == "Spareribs"

    wrong = single.replace("getSingleResult().desiredDish", "getSingleResult().getEntry()")
    s = Scenario([write(tmp_path, _one_task_body(wrong), name="wrong.bpmn"), tmp_path / "dinner.dmn"],
                 data={"season": "Fall", "guestCount": 2})
    assert s.result.status == "failed"
    assert "output mapping 'meal'" in str(s.result.error) and "getEntry()" in str(s.result.error)


def test_dmn_file_imported_by_a_dmn_file_is_found_beside_it(tmp_path: Path) -> None:
    """DMN 1.3+ `<import namespace=...>`: a decision calling a business knowledge model of another DMN file; the
    imported file is found among the files beside the diagram, by namespace, as called processes are."""
    dmn = "https://www.omg.org/spec/DMN/20191111/MODEL/"
    (tmp_path / "greeting.dmn").write_text(
        f'<definitions xmlns="{dmn}" id="g" name="g" namespace="http://example.com/greet">'
        '<businessKnowledgeModel id="hello" name="Say Hello"><encapsulatedLogic><formalParameter name="who" '
        'typeRef="string"/><literalExpression><text>"Hello " + who</text></literalExpression></encapsulatedLogic>'
        '</businessKnowledgeModel></definitions>', encoding="utf-8")
    (tmp_path / "main.dmn").write_text(
        f'<definitions xmlns="{dmn}" id="m" name="m" namespace="http://example.com/main">'
        '<import namespace="http://example.com/greet" name="greet" importType="' + dmn + '"/>'
        '<inputData id="i" name="name"><variable name="name" typeRef="string"/></inputData>'
        '<decision id="greeting" name="Greeting"><variable name="Greeting" typeRef="string"/>'
        '<informationRequirement><requiredInput href="#i"/></informationRequirement>'
        '<knowledgeRequirement><requiredKnowledge href="http://example.com/greet#hello"/></knowledgeRequirement>'
        '<literalExpression><text>greet.Say Hello(name)</text></literalExpression></decision></definitions>',
        encoding="utf-8")
    task = ('<bpmn:businessRuleTask id="t" camunda:decisionRef="greeting" camunda:resultVariable="text" '
            'camunda:mapDecisionResult="singleEntry"/>')
    path = write(tmp_path, _one_task_body(task))
    s = Scenario(path, data={"name": "Ada"})
    assert s.result.status == "completed", s.result.error
    assert s.result.data["text"] == "Hello Ada"
    assert any("greeting.dmn" in note and "imported" in note for note in s.definitions.notes)
