"""Camunda 7 parameter forms: lists, maps, expressions and scripts in input/output parameters, connectors, and
method expressions with a result variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from bpmn_runner.errors import UnsupportedElementError

from .scenario import Scenario, registry, write
from .test_elements import END, START, chain

IO_PAGE = "docs.camunda.org/manual/latest/user-guide/process-engine/variables (Input/Output Variable Mapping)"


def run(tmp_path: Path, task: str, handlers: dict, data: dict | None = None) -> Scenario:
    reg = registry()
    for name, func in handlers.items():
        reg.register(name, func)
    return Scenario(write(tmp_path, START + task + END + chain("start", "task", "end")), reg, data=data or {})


def test_list_map_expression_and_script_parameters_are_evaluated(tmp_path: Path) -> None:
    """docs.camunda.org/manual/latest/user-guide/process-engine/variables (Input/Output Variable Mapping): a
    parameter may be a text, an expression, a camunda:list, a camunda:map (nested) or a camunda:script."""
    task = ('<bpmn:serviceTask id="task" camunda:type="external" camunda:topic="ship"><bpmn:extensionElements>'
            '<camunda:inputOutput>'
            '<camunda:inputParameter name="lines"><camunda:list><camunda:value>${sku}</camunda:value>'
            '<camunda:value>fixed</camunda:value><camunda:value><camunda:list><camunda:value>${qty * 2}'
            '</camunda:value></camunda:list></camunda:value></camunda:list></camunda:inputParameter>'
            '<camunda:inputParameter name="address"><camunda:map><camunda:entry key="city">${city}</camunda:entry>'
            '<camunda:entry key="zip">75001</camunda:entry></camunda:map></camunda:inputParameter>'
            '<camunda:inputParameter name="total"><camunda:script scriptFormat="javascript">price * qty'
            '</camunda:script></camunda:inputParameter>'
            '<camunda:outputParameter name="tracking"><camunda:script scriptFormat="javascript">'
            'S(response).prop("id").stringValue()</camunda:script></camunda:outputParameter>'
            '</camunda:inputOutput></bpmn:extensionElements></bpmn:serviceTask>')
    seen = []
    s = run(tmp_path, task, {"ship": lambda call: seen.append(call.params) or {"response": '{"id": "T-1"}'}},
            {"sku": "A-1", "qty": 3, "price": 2, "city": "Paris"})
    assert s.result.status == "completed", s.result.error
    assert seen == [{"lines": ["A-1", "fixed", [6]], "address": {"city": "Paris", "zip": "75001"}, "total": 6}]
    assert s.result.data["tracking"] == "T-1"


def test_a_groovy_parameter_script_is_refused_at_load(tmp_path: Path) -> None:
    """docs.camunda.org/manual/latest/user-guide/process-engine/scripting: scripts in parameters run in their
    scriptFormat; bpmn-runner runs JavaScript only there."""
    task = ('<bpmn:serviceTask id="task" camunda:type="external" camunda:topic="x"><bpmn:extensionElements>'
            '<camunda:inputOutput><camunda:inputParameter name="a"><camunda:script scriptFormat="groovy">1'
            '</camunda:script></camunda:inputParameter></camunda:inputOutput></bpmn:extensionElements>'
            '</bpmn:serviceTask>')
    with pytest.raises(UnsupportedElementError) as err:
        run(tmp_path, task, {"x": lambda call: None})
    assert "'groovy'" in str(err.value) and "'task'" in str(err.value)


def test_a_connector_calls_its_handler_with_its_own_parameters(tmp_path: Path) -> None:
    """docs.camunda.org/manual/latest/reference/connect/ and user-guide/process-engine/connectors: the connector
    (by connectorId) gets its input parameters; its output parameters map the response into the process."""
    task = ('<bpmn:serviceTask id="task"><bpmn:extensionElements><camunda:connector>'
            '<camunda:inputOutput><camunda:inputParameter name="url">https://erp/${sku}</camunda:inputParameter>'
            '<camunda:inputParameter name="method">GET</camunda:inputParameter>'
            '<camunda:outputParameter name="stock">${response.count}</camunda:outputParameter>'
            '</camunda:inputOutput><camunda:connectorId>http-connector</camunda:connectorId></camunda:connector>'
            '</bpmn:extensionElements></bpmn:serviceTask>')
    seen = []

    def http(call):
        seen.append(call.params)
        return {"response": {"count": 7}, "statusCode": 200}

    s = run(tmp_path, task, {"http-connector": http}, {"sku": "A-1"})
    assert s.result.status == "completed", s.result.error
    assert seen == [{"url": "https://erp/A-1", "method": "GET"}]
    assert s.result.data == {"sku": "A-1", "stock": 7}  # the raw response and status code stay in the connector


def test_a_method_expression_gets_its_arguments_and_fills_the_result_variable(tmp_path: Path) -> None:
    """docs.camunda.org/manual/latest/user-guide/process-engine/expression-language (Delegation Code:
    camunda:expression="${calc.add(a, b)}" with camunda:resultVariable stores the returned value)."""
    task = ('<bpmn:serviceTask id="task" camunda:expression="${calc.add(a, b * 2)}" '
            'camunda:resultVariable="sum"/>')
    s = run(tmp_path, task, {"calc.add": lambda call: call.args[0] + call.args[1]}, {"a": 1, "b": 4})
    assert s.result.status == "completed", s.result.error
    assert s.result.data == {"a": 1, "b": 4, "sum": 9}


def test_a_method_expression_result_that_is_a_map_is_stored_whole(tmp_path: Path) -> None:
    """expression-language page: the result variable holds the method's return value as it is."""
    task = '<bpmn:serviceTask id="task" camunda:expression="${lookup.customer(id)}" camunda:resultVariable="c"/>'
    s = run(tmp_path, task, {"lookup.customer": lambda call: {"name": f"n{call.args[0]}"}}, {"id": 5})
    assert s.result.data["c"] == {"name": "n5"} and "name" not in s.result.data
