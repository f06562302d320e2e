"""The four service-task dialects: how each names its handler, what the handler receives, where results go."""

from __future__ import annotations

from pathlib import Path

import pytest

from bpmn_runner import BpmnError
from bpmn_runner.errors import UnboundTaskError

from .scenario import Scenario, registry, write
from .test_elements import END, START, chain, flow


def run_one(tmp_path: Path, task_xml: str, handlers: dict, data: dict | None = None, extra: str = "") -> Scenario:
    body = START + task_xml + END + chain("start", "task", "end")
    reg = registry()
    for name, func in handlers.items():
        reg.register(name, func)
    return Scenario(write(tmp_path, body, extra=extra), reg, data=data or {})


@pytest.mark.parametrize("attrs, name", [
    ('camunda:type="external" camunda:topic="erp.check"', "erp.check"),
    ('camunda:class="com.acme.ErpCheck"', "com.acme.ErpCheck"),
    ('camunda:delegateExpression="${erpCheckDelegate}"', "erpCheckDelegate"),
    ('camunda:expression="${erpService.check(execution)}"', "erpService.check"),
    ('implementation="erp-check-impl"', "erp-check-impl"),
])
def test_camunda7_and_plain_bindings_name_the_handler(tmp_path: Path, attrs: str, name: str) -> None:
    s = run_one(tmp_path, f'<bpmn:serviceTask id="task" {attrs}/>', {name: lambda call: {"checked": call.topic}})
    assert s.result.status == "completed"
    assert s.result.data["checked"] == name


def test_camunda7_input_output_mappings(tmp_path: Path) -> None:
    task = ('<bpmn:serviceTask id="task" camunda:type="external" camunda:topic="price"><bpmn:extensionElements>'
            '<camunda:inputOutput><camunda:inputParameter name="sku">${order.sku}</camunda:inputParameter>'
            '<camunda:inputParameter name="currency">EUR</camunda:inputParameter>'
            '<camunda:outputParameter name="total">${price * 2}</camunda:outputParameter>'
            '</camunda:inputOutput></bpmn:extensionElements></bpmn:serviceTask>')
    seen = []
    s = run_one(tmp_path, task, {"price": lambda call: seen.append(call.params) or {"price": 21}},
                {"order": {"sku": "B-1"}})
    assert seen == [{"sku": "B-1", "currency": "EUR"}]
    assert s.result.data["total"] == 42
    assert "price" not in s.result.data  # with output mappings only the mapped variables reach the process


def test_camunda8_job_type_headers_and_io_mapping(tmp_path: Path) -> None:
    task = ('<bpmn:serviceTask id="task"><bpmn:extensionElements>'
            '<zeebe:taskDefinition type="credit.score" retries="5"/>'
            '<zeebe:taskHeaders><zeebe:header key="model" value="v2"/></zeebe:taskHeaders>'
            '<zeebe:ioMapping><zeebe:input source="=applicant.income" target="income"/>'
            '<zeebe:input source="=&quot;EUR&quot;" target="currency"/>'
            '<zeebe:output source="=score" target="creditScore"/></zeebe:ioMapping>'
            '</bpmn:extensionElements></bpmn:serviceTask>')
    calls = []
    s = run_one(tmp_path, task, {"credit.score": lambda call: calls.append(call) or {"score": 700}},
                {"applicant": {"income": 52000}})
    assert calls[0].params == {"income": 52000, "currency": "EUR"}
    assert calls[0].headers == {"model": "v2"}
    assert s.result.data["creditScore"] == 700 and "score" not in s.result.data


def test_camunda8_without_output_mapping_merges_all_results(tmp_path: Path) -> None:
    task = ('<bpmn:serviceTask id="task"><bpmn:extensionElements><zeebe:taskDefinition type="t"/>'
            '</bpmn:extensionElements></bpmn:serviceTask>')
    s = run_one(tmp_path, task, {"t": lambda call: {"a": 1, "b": [1, 2]}})
    assert s.result.data == {"a": 1, "b": [1, 2]}


def test_spiffarena_operator_parameters_are_python_and_result_goes_to_result_variable(tmp_path: Path) -> None:
    task = ('<bpmn:serviceTask id="task"><bpmn:extensionElements>'
            '<spiffworkflow:serviceTaskOperator id="http/GetRequest" resultVariable="response">'
            '<spiffworkflow:parameters><spiffworkflow:parameter id="url" type="str" value="base + \'/orders\'"/>'
            '<spiffworkflow:parameter id="limit" type="int" value="count * 2"/></spiffworkflow:parameters>'
            '</spiffworkflow:serviceTaskOperator></bpmn:extensionElements></bpmn:serviceTask>')
    seen = []
    s = run_one(tmp_path, task, {"http/GetRequest": lambda call: seen.append(call.params) or ["o1", "o2"]},
                {"base": "https://erp", "count": 3})
    assert seen == [{"url": "https://erp/orders", "limit": 6}]  # plain values, not {'value', 'type'} dicts
    assert s.result.data["response"] == ["o1", "o2"]


def test_spiffarena_bpmn_error_from_handler_is_caught(tmp_path: Path) -> None:
    extra = '<bpmn:error id="Err" errorCode="NOT_FOUND"/>'

    def get(call):
        raise BpmnError("NOT_FOUND", "no such order")
    body = (START + '<bpmn:serviceTask id="task"><bpmn:extensionElements>'
            '<spiffworkflow:serviceTaskOperator id="http/Get" resultVariable="r"/></bpmn:extensionElements>'
            '</bpmn:serviceTask><bpmn:boundaryEvent id="nf" attachedToRef="task"><bpmn:errorEventDefinition '
            'errorRef="Err"/></bpmn:boundaryEvent><bpmn:endEvent id="end"/><bpmn:endEvent id="end_nf"/>'
            + flow("f0", "start", "task") + flow("f1", "task", "end") + flow("f2", "nf", "end_nf"))
    reg = registry()
    reg.register("http/Get", get)
    s = Scenario(write(tmp_path, body, extra=extra), reg)
    assert s.result.status == "completed" and s.result.path[-1] == "end_nf"


def test_unbound_service_task_is_refused_before_running(tmp_path: Path) -> None:
    body = START + '\n<bpmn:serviceTask id="task" name="Charge"/>' + END + chain("start", "task", "end")
    with pytest.raises(UnboundTaskError) as err:
        Scenario(write(tmp_path, body))
    assert "diagram.bpmn:" in str(err.value) and "task" in str(err.value) and "no handler binding" in str(err.value)


def test_missing_handler_suggests_a_close_name(tmp_path: Path) -> None:
    body = (START + '<bpmn:serviceTask id="task" camunda:type="external" camunda:topic="payment.charge"/>' + END
            + chain("start", "task", "end"))
    reg = registry()
    reg.register("payment.charges", lambda call: None)
    with pytest.raises(UnboundTaskError) as err:
        Scenario(write(tmp_path, body), reg)
    assert "did you mean 'payment.charges'" in str(err.value)


def test_juel_and_feel_conditions_choose_branches(tmp_path: Path) -> None:
    for condition, data, expected in [
        ("${total &gt; 100 and not empty customer}", {"total": 150, "customer": "ada"}, "yes"),
        ("${total &gt; 100 and not empty customer}", {"total": 150, "customer": ""}, "no"),
        ("${status eq 'gold' || vip}", {"status": "gold", "vip": False}, "yes"),
        ("=total &gt;= 100 and status = \"gold\"", {"total": 100, "status": "gold"}, "yes"),
        ("=not(approved)", {"approved": True}, "no"),
        ("total > 100 and status == 'gold'".replace(">", "&gt;"), {"total": 101, "status": "gold"}, "yes"),
    ]:
        body = (START + '<bpmn:exclusiveGateway id="gw" default="f_no"/><bpmn:endEvent id="yes"/>'
                '<bpmn:endEvent id="no"/>' + flow("f0", "start", "gw") + flow("f_yes", "gw", "yes", condition)
                + flow("f_no", "gw", "no"))
        s = Scenario(write(tmp_path, body), data=data)
        assert s.result.path[-1] == expected, (condition, data)


def test_condition_that_cannot_be_evaluated_names_element_and_expression(tmp_path: Path) -> None:
    body = (START + '<bpmn:exclusiveGateway id="gw" default="f_no"/><bpmn:endEvent id="yes"/>'
            '<bpmn:endEvent id="no"/>' + flow("f0", "start", "gw") + flow("f_yes", "gw", "yes", "${limit &gt; 5}")
            + flow("f_no", "gw", "no"))
    s = Scenario(write(tmp_path, body))
    assert s.result.status == "failed"
    assert "gw" in s.result.error and "limit" in s.result.error


def test_simulate_takes_the_default_flow_when_data_is_missing_and_says_so(tmp_path: Path) -> None:
    body = (START + '<bpmn:serviceTask id="charge" camunda:type="external" camunda:topic="payment.charge"/>'
            '<bpmn:exclusiveGateway id="gw" default="f_no"/><bpmn:userTask id="review"/><bpmn:endEvent id="yes"/>'
            '<bpmn:endEvent id="no"/>' + flow("f0", "start", "charge") + flow("f1", "charge", "gw")
            + flow("f_yes", "gw", "review", "${amount &gt; 5}") + flow("f_no", "gw", "no")
            + flow("f2", "review", "yes"))
    s = Scenario(write(tmp_path, body), simulate=True)
    assert s.result.status == "completed" and s.result.path[-1] == "no"
    assert any("default" in item.assumed and item.element_id == "gw" for item in s.result.simulated)


def test_simulate_takes_the_first_flow_without_a_default(tmp_path: Path) -> None:
    body = (START + '<bpmn:exclusiveGateway id="gw"/><bpmn:userTask id="review"/><bpmn:endEvent id="yes"/>'
            '<bpmn:endEvent id="no"/>' + flow("f0", "start", "gw")
            + flow("f_yes", "gw", "review", "${amount &gt; 5}") + flow("f_no", "gw", "no", "${amount &lt;= 5}")
            + flow("f2", "review", "yes"))
    s = Scenario(write(tmp_path, body), simulate=True)
    assert s.result.status == "completed" and "review" in s.result.path
    assert any("first" in item.assumed for item in s.result.simulated)


def test_simulate_stops_an_endless_loop_naming_the_repeating_elements(tmp_path: Path) -> None:
    body = (START + '<bpmn:exclusiveGateway id="merge"/><bpmn:task id="spin"/><bpmn:exclusiveGateway id="gw"'
            ' default="f_back"/><bpmn:endEvent id="end"/>' + flow("f0", "start", "merge") + flow("f1", "merge", "spin")
            + flow("f2", "spin", "gw") + flow("f_back", "gw", "merge") + flow("f_out", "gw", "end", "${done}"))
    s = Scenario(write(tmp_path, body), simulate=True, max_steps=50, data={"done": False})
    assert s.result.status == "failed"
    assert "50" in s.result.error and "spin" in s.result.error


def test_camunda8_call_activity_script_task_and_multi_instance(tmp_path: Path) -> None:
    child = write(tmp_path, START + '<bpmn:scriptTask id="double"><bpmn:extensionElements>'
                  '<zeebe:script expression="=item * 2" resultVariable="result"/></bpmn:extensionElements>'
                  '</bpmn:scriptTask>' + END + chain("start", "double", "end"), name="child.bpmn", process_id="child")
    call = ('<bpmn:callActivity id="each"><bpmn:extensionElements><zeebe:calledElement processId="child"/>'
            '</bpmn:extensionElements><bpmn:multiInstanceLoopCharacteristics><bpmn:extensionElements>'
            '<zeebe:loopCharacteristics inputCollection="=items" inputElement="item" outputCollection="results" '
            'outputElement="=result"/></bpmn:extensionElements></bpmn:multiInstanceLoopCharacteristics>'
            '</bpmn:callActivity>')
    parent = write(tmp_path, START + call + END + chain("start", "each", "end"), name="parent.bpmn",
                   process_id="parent")
    s = Scenario([parent, child], process_id="parent", data={"items": [1, 2, 3]})
    assert s.result.status == "completed", s.result.error
    assert s.result.data["results"] == [2, 4, 6]


def test_camunda7_multi_instance_collection_expression(tmp_path: Path) -> None:
    task = ('<bpmn:serviceTask id="task" camunda:type="external" camunda:topic="mail">'
            '<bpmn:multiInstanceLoopCharacteristics camunda:collection="${recipients}" '
            'camunda:elementVariable="recipient"/></bpmn:serviceTask>')
    sent = []
    s = run_one(tmp_path, task, {"mail": lambda call: sent.append(call.data["recipient"]) or None},
                {"recipients": ["a@x", "b@x"]})
    assert s.result.status == "completed", s.result.error
    assert sorted(sent) == ["a@x", "b@x"]


def test_feel_language_condition_without_equals_sign(tmp_path: Path) -> None:
    condition = ('<bpmn:sequenceFlow id="f_yes" sourceRef="gw" targetRef="yes"><bpmn:conditionExpression '
                 'language="https://www.omg.org/spec/DMN/20191111/FEEL/">amount &gt; 10</bpmn:conditionExpression>'
                 '</bpmn:sequenceFlow>')
    body = (START + '<bpmn:exclusiveGateway id="gw" default="f_no"/><bpmn:endEvent id="yes"/><bpmn:endEvent id="no"/>'
            + flow("f0", "start", "gw") + condition + flow("f_no", "gw", "no"))
    assert Scenario(write(tmp_path, body), data={"amount": 11}).result.path[-1] == "yes"


@pytest.mark.parametrize("task, words", [
    ('<bpmn:scriptTask id="task" scriptFormat="groovy"><bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>',
     "script format 'groovy'"),
    ('<bpmn:task id="task"><bpmn:extensionElements><camunda:taskListener class="a.B" event="timeout"/>'
     '</bpmn:extensionElements></bpmn:task>', "timeout task listener needs a bpmn:timerEventDefinition"),
])
def test_what_cannot_run_is_refused_at_load_with_file_and_line(tmp_path: Path, task: str, words: str) -> None:
    from bpmn_runner.errors import UnsupportedElementError
    with pytest.raises(UnsupportedElementError) as err:
        Scenario(write(tmp_path, START + task + END + chain("start", "task", "end")))
    assert words in str(err.value) and "diagram.bpmn:" in str(err.value)

DISCOUNT_DMN = ('<?xml version="1.0" encoding="UTF-8"?>\n<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" '
                'id="d" name="d" namespace="http://camunda.org/schema/1.0/dmn">'
                '<decision id="discount" name="Discount"><decisionTable id="t">'
                '<input id="i1" label="Tier"><inputExpression id="e1" typeRef="string"><text>tier</text>'
                '</inputExpression></input><output id="o1" name="discount" typeRef="integer"/>'
                '<rule id="r1"><inputEntry id="ie1"><text>"gold"</text></inputEntry><outputEntry id="oe1"><text>10'
                '</text></outputEntry></rule><rule id="r2"><inputEntry id="ie2"><text>"silver"</text></inputEntry>'
                '<outputEntry id="oe2"><text>5</text></outputEntry></rule></decisionTable></decision></definitions>')


@pytest.mark.parametrize("task, variable", [
    ('<bpmn:businessRuleTask id="task"><bpmn:extensionElements><zeebe:calledDecision decisionId="discount" '
     'resultVariable="rate"/></bpmn:extensionElements></bpmn:businessRuleTask>', "rate"),
    ('<bpmn:businessRuleTask id="task"><bpmn:extensionElements><spiffworkflow:calledDecisionId>discount'
     '</spiffworkflow:calledDecisionId></bpmn:extensionElements></bpmn:businessRuleTask>', "discount"),
])
def test_business_rule_task_dmn_in_camunda8_and_spiffarena(tmp_path: Path, task: str, variable: str) -> None:
    (tmp_path / "discount.dmn").write_text(DISCOUNT_DMN)
    s = Scenario(write(tmp_path, START + task + END + chain("start", "task", "end")), data={"tier": "silver"})
    assert s.result.status == "completed", s.result.error
    assert s.result.data[variable] == 5


def test_non_interrupting_timer_cycle_fires_each_repetition(tmp_path: Path) -> None:
    body = (START + '<bpmn:userTask id="review"/><bpmn:boundaryEvent id="remind" attachedToRef="review" '
            'cancelActivity="false"><bpmn:timerEventDefinition><bpmn:timeCycle>R3/PT10M</bpmn:timeCycle>'
            '</bpmn:timerEventDefinition></bpmn:boundaryEvent><bpmn:serviceTask id="mail" camunda:type="external" '
            'camunda:topic="mail"/><bpmn:endEvent id="end"/><bpmn:endEvent id="end_r"/>'
            + flow("f0", "start", "review") + flow("f1", "review", "end") + flow("f2", "remind", "mail")
            + flow("f3", "mail", "end_r"))
    from datetime import datetime, timedelta, timezone
    now = [datetime(2031, 1, 1, tzinfo=timezone.utc)]
    sent = []
    reg = registry()
    reg.register("mail", lambda call: sent.append(1) or None)
    s = Scenario(write(tmp_path, body), reg, timer_wait=0, clock=lambda: now[0])
    for _ in range(5):
        now[0] += timedelta(minutes=11)
        s.resume()
    assert len(sent) == 3
    assert "review" in s.waiting_ids()
