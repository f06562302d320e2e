"""Structural checks of the example diagrams in processes/ and of the handler modules that go with them.

No engine is involved: the diagrams must be valid BPMN 2.0 as a modeler saves it (XSD, complete DI, lanes),
parse with plain SpiffWorkflow (with bpmn-runner's parser where they use compensation, which SpiffWorkflow lacks),
and name only handlers that their handler module registers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterator

import pytest
from lxml import etree

from bpmn_runner import BpmnError, HandlerRegistry, ServiceCall
from bpmn_runner.registry import import_handler_module

PROCESSES = Path(__file__).resolve().parent.parent / "processes"

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "camunda": "http://camunda.org/schema/1.0/bpmn",
    "zeebe": "http://camunda.org/schema/zeebe/1.0",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
    "modeler": "http://camunda.org/schema/modeler/1.0",
}

FLOW_NODE_TAGS = {
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
    "task", "serviceTask", "scriptTask", "userTask", "manualTask", "sendTask", "receiveTask",
    "businessRuleTask", "callActivity", "subProcess",
    "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway",
}


def _camunda_parser() -> Any:
    from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
    return CamundaParser()


def _zeebe_parser() -> Any:
    from SpiffWorkflow.dmn.parser.BpmnDmnParser import BpmnDmnParser
    return BpmnDmnParser()


def _spiff_parser() -> Any:
    from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
    return SpiffBpmnParser()


@dataclass(frozen=True)
class Example:
    bpmn: str
    process_id: str
    handlers: str
    dialect: str
    make_parser: Callable[[], Any]

    def __str__(self) -> str:
        return self.bpmn


EXAMPLES = [
    Example("order_fulfillment.bpmn", "order_fulfillment", "order_handlers.py", "camunda7", _camunda_parser),
    Example("loan_approval_c8.bpmn", "loan_approval", "loan_handlers.py", "camunda8", _zeebe_parser),
    Example("expense_approval_spiff.bpmn", "expense_approval", "expense_handlers.py", "spiff", _spiff_parser),
    Example("order_events.bpmn", "order_events", "order_events_handlers.py", "camunda7", _camunda_parser),
]

examples = pytest.mark.parametrize("example", EXAMPLES, ids=str)


# --- helpers ----------------------------------------------------------------------------------

def _root(example: Example) -> etree._Element:
    return etree.parse(str(PROCESSES / example.bpmn)).getroot()


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def _process(root: etree._Element, process_id: str) -> etree._Element:
    found = root.xpath("./bpmn:process[@id=$pid]", namespaces=NS, pid=process_id)
    assert found, f"no process {process_id}"
    return found[0]


def _flow_nodes(process: etree._Element) -> dict[str, etree._Element]:
    return {el.get("id"): el for el in process.iter()
            if isinstance(el.tag, str) and etree.QName(el).namespace == NS["bpmn"] and _local(el) in FLOW_NODE_TAGS}


def _sequence_flows(process: etree._Element) -> dict[str, etree._Element]:
    return {el.get("id"): el for el in process.iterfind(".//bpmn:sequenceFlow", NS)}


Box = tuple[float, float, float, float]


def _bounds(node: etree._Element) -> Box:
    b = node.find("dc:Bounds", NS)
    assert b is not None
    return tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))  # type: ignore[return-value]


def _shapes(root: etree._Element) -> dict[str, etree._Element]:
    return {s.get("bpmnElement"): s for s in root.iterfind(".//bpmndi:BPMNShape", NS)}


def _edges(root: etree._Element) -> dict[str, etree._Element]:
    return {e.get("bpmnElement"): e for e in root.iterfind(".//bpmndi:BPMNEdge", NS)}


def _waypoints(edge: etree._Element) -> list[tuple[float, float]]:
    return [(float(w.get("x")), float(w.get("y"))) for w in edge.iterfind("di:waypoint", NS)]


def _on_border(point: tuple[float, float], box: Box, tolerance: float = 1.0) -> bool:
    px, py = point
    x, y, w, h = box
    inside = x - tolerance <= px <= x + w + tolerance and y - tolerance <= py <= y + h + tolerance
    near_edge = min(abs(px - x), abs(px - (x + w)), abs(py - y), abs(py - (y + h))) <= tolerance
    return inside and near_edge


def _center(box: Box) -> tuple[float, float]:
    x, y, w, h = box
    return x + w / 2, y + h / 2


def _contains(box: Box, point: tuple[float, float]) -> bool:
    x, y, w, h = box
    return x <= point[0] <= x + w and y <= point[1] <= y + h


def _bindings(root: etree._Element) -> set[str]:
    """Handler names the diagram's service tasks ask for, read straight from the XML."""
    names = set(root.xpath("//bpmn:serviceTask[@camunda:type='external']/@camunda:topic", namespaces=NS))
    names |= set(root.xpath("//bpmn:serviceTask/bpmn:extensionElements/zeebe:taskDefinition/@type", namespaces=NS))
    names |= set(root.xpath("//bpmn:serviceTask/bpmn:extensionElements/spiffworkflow:serviceTaskOperator/@id",
                            namespaces=NS))
    return {n.strip() for n in names}


def _handler_module(example: Example) -> ModuleType:
    return import_handler_module(str(PROCESSES / example.handlers))


def _registry(example: Example) -> HandlerRegistry:
    registry = HandlerRegistry()
    registry.add_module(_handler_module(example))
    return registry


# --- every example ----------------------------------------------------------------------------

@examples
def test_passes_the_bpmn_xsd(example: Example) -> None:
    from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
    BpmnValidator().validate(etree.parse(str(PROCESSES / example.bpmn)))


@examples
def test_plain_spiffworkflow_parses_it(example: Example) -> None:
    process = _process(_root(example), example.process_id)
    compensation = set(process.xpath(".//bpmn:boundaryEvent[bpmn:compensateEventDefinition]/@id", namespaces=NS))
    if compensation:  # SpiffWorkflow 3.2 has no compensation; bpmn-runner's parser adds it
        from bpmn_runner._spiff.parser import new_parser
        from bpmn_runner.loader.dialects import TASK_READER
        parser = new_parser("camunda", TASK_READER)
    else:
        parser = example.make_parser()
    parser.add_bpmn_file(str(PROCESSES / example.bpmn))
    spec = parser.get_spec(example.process_id)
    assert set(_flow_nodes(process)) - compensation <= set(spec.task_specs)


@examples
def test_ids_are_unique_and_di_refers_to_existing_elements(example: Example) -> None:
    root = _root(example)
    ids = [el.get("id") for el in root.iter() if isinstance(el.tag, str) and el.get("id")]
    assert len(ids) == len(set(ids)), "duplicate ids"
    semantic = {el.get("id") for el in root.iter()
                if isinstance(el.tag, str) and el.get("id") and etree.QName(el).namespace == NS["bpmn"]}
    planes = root.findall(".//bpmndi:BPMNPlane", NS)
    assert len(planes) == 1
    assert planes[0].get("bpmnElement") in semantic
    for di_element in root.xpath("//bpmndi:BPMNShape | //bpmndi:BPMNEdge", namespaces=NS):
        assert di_element.get("bpmnElement") in semantic, di_element.get("id")


@examples
def test_every_flow_node_has_a_shape_and_every_flow_an_edge(example: Example) -> None:
    root = _root(example)
    process = _process(root, example.process_id)
    shapes, edges = _shapes(root), _edges(root)
    for node_id, node in _flow_nodes(process).items():
        assert node_id in shapes, f"{node_id} has no BPMNShape"
        x, y, w, h = _bounds(shapes[node_id])
        tag = _local(node)
        if tag.endswith("Event"):
            assert (w, h) == (36, 36), node_id
        elif tag.endswith("Gateway"):
            assert (w, h) == (50, 50), node_id
        else:
            assert (w, h) == (100, 80), node_id
        if node.get("name") and (tag.endswith("Event") or tag.endswith("Gateway")):
            assert shapes[node_id].find("bpmndi:BPMNLabel/dc:Bounds", NS) is not None, f"{node_id} has no label bounds"
    for flow_id in _sequence_flows(process):
        assert flow_id in edges, f"{flow_id} has no BPMNEdge"
        assert len(_waypoints(edges[flow_id])) >= 2, flow_id


@examples
def test_edges_connect_the_borders_of_their_shapes(example: Example) -> None:
    root = _root(example)
    process = _process(root, example.process_id)
    shapes, edges = _shapes(root), _edges(root)
    for flow_id, flow in _sequence_flows(process).items():
        points = _waypoints(edges[flow_id])
        source, target = flow.get("sourceRef"), flow.get("targetRef")
        assert _on_border(points[0], _bounds(shapes[source])), f"{flow_id} does not start on {source}"
        assert _on_border(points[-1], _bounds(shapes[target])), f"{flow_id} does not end on {target}"
        for (x0, y0), (x1, y1) in zip(points, points[1:]):
            assert x0 == x1 or y0 == y1, f"{flow_id} has a diagonal segment"


@examples
def test_incoming_and_outgoing_match_the_sequence_flows(example: Example) -> None:
    process = _process(_root(example), example.process_id)
    nodes, flows = _flow_nodes(process), _sequence_flows(process)
    for node_id, node in nodes.items():
        incoming = {e.text for e in node.iterfind("bpmn:incoming", NS)}
        outgoing = {e.text for e in node.iterfind("bpmn:outgoing", NS)}
        assert incoming == {f for f, el in flows.items() if el.get("targetRef") == node_id}, node_id
        assert outgoing == {f for f, el in flows.items() if el.get("sourceRef") == node_id}, node_id
        assert node.get("name"), f"{node_id} has no name"
    for gateway in process.xpath("./bpmn:exclusiveGateway[@default]", namespaces=NS):
        default = flows[gateway.get("default")]
        assert default.get("sourceRef") == gateway.get("id")
        assert default.find("bpmn:conditionExpression", NS) is None


@examples
def test_every_service_task_has_a_handler_and_every_handler_is_used(example: Example) -> None:
    root = _root(example)
    bindings = _bindings(root)
    service_tasks = root.findall(".//bpmn:serviceTask", NS)
    assert len(bindings) == len(service_tasks), "each service task names its own handler"
    registry = _registry(example)
    for name in bindings:
        assert name in registry, f"no handler for {name!r} in {example.handlers}"
    assert set(registry.names()) == bindings


@examples
def test_handler_modules_document_every_handler_and_ship_default_data(example: Example) -> None:
    module = _handler_module(example)
    assert module.__doc__ and "\n" not in module.__doc__.strip()
    assert isinstance(module.DEFAULT_DATA, dict) and module.DEFAULT_DATA
    json.dumps(module.DEFAULT_DATA)
    for name, registered in _registry(example).items():
        assert registered.func.__doc__, f"handler {name} has no docstring"


# --- the Camunda 7 order example ----------------------------------------------------------------

ORDER = EXAMPLES[0]


def test_order_is_saved_as_camunda_modeler_7_saves_it() -> None:
    root = _root(ORDER)
    assert root.get("exporter") == "Camunda Modeler"
    assert root.get("exporterVersion", "").startswith("5.")
    assert root.get(f"{{{NS['modeler']}}}executionPlatform") == "Camunda Platform"
    assert root.get(f"{{{NS['modeler']}}}executionPlatformVersion", "").startswith("7.")
    process = _process(root, "order_fulfillment")
    assert process.get("isExecutable") == "true"
    participants = root.findall("./bpmn:collaboration/bpmn:participant", NS)
    assert [(p.get("name"), p.get("processRef")) for p in participants] == [("Order fulfilment", "order_fulfillment")]
    plane = root.find(".//bpmndi:BPMNPlane", NS)
    assert plane.get("bpmnElement") == root.find("./bpmn:collaboration", NS).get("id")


def test_order_lanes_cover_every_flow_node_once_and_contain_its_shape() -> None:
    root = _root(ORDER)
    process = _process(root, "order_fulfillment")
    shapes = _shapes(root)
    lanes = process.findall("./bpmn:laneSet/bpmn:lane", NS)
    assert [lane.get("name") for lane in lanes] == ["Sales", "Finance", "Warehouse", "Logistics"]
    pool = shapes[root.find("./bpmn:collaboration/bpmn:participant", NS).get("id")]
    assert pool.get("isHorizontal") == "true"
    owner: dict[str, str] = {}
    for lane in lanes:
        lane_shape = shapes[lane.get("id")]
        assert lane_shape.get("isHorizontal") == "true"
        lane_box = _bounds(lane_shape)
        assert _contains(_bounds(pool), lane_box[:2])
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            assert ref.text not in owner, f"{ref.text} is in two lanes"
            owner[ref.text] = lane.get("name")
            assert _contains(lane_box, _center(_bounds(shapes[ref.text]))), f"{ref.text} is drawn outside its lane"
    assert set(owner) == set(_flow_nodes(process))
    assert owner["Event_OrderReceived"] == "Sales"
    assert owner["Activity_CheckStock"] == "Warehouse"
    assert owner["Activity_ChargePayment"] == "Finance"
    assert owner["Activity_BookShipment"] == "Logistics"


def test_order_error_boundary_sits_on_the_bottom_edge_of_charge_payment() -> None:
    root = _root(ORDER)
    process = _process(root, "order_fulfillment")
    boundary = process.find("./bpmn:boundaryEvent[@id='Event_CardDeclined']", NS)
    assert boundary.get("attachedToRef") == "Activity_ChargePayment"
    assert boundary.get("cancelActivity", "true") == "true"
    error_ref = boundary.find("bpmn:errorEventDefinition", NS).get("errorRef")
    error = root.find(f"./bpmn:error[@id='{error_ref}']", NS)
    assert error.get("errorCode") == "PAYMENT_DECLINED"
    shapes = _shapes(root)
    task_x, task_y, task_w, task_h = _bounds(shapes["Activity_ChargePayment"])
    cx, cy = _center(_bounds(shapes["Event_CardDeclined"]))
    assert cy == task_y + task_h and task_x < cx < task_x + task_w


def test_order_extensions_are_the_ones_the_modeler_writes() -> None:
    process = _process(_root(ORDER), "order_fulfillment")
    check = process.find("./bpmn:serviceTask[@id='Activity_CheckStock']", NS)
    inputs = {p.get("name"): p.text for p in check.iterfind(".//camunda:inputOutput/camunda:inputParameter", NS)}
    assert inputs["sku"] == "${order.sku}" and inputs["warehouse"] == "MAIN"
    charge = process.find("./bpmn:serviceTask[@id='Activity_ChargePayment']", NS)
    assert charge.findtext("bpmn:extensionElements/camunda:failedJobRetryTimeCycle", namespaces=NS) == "R3/PT10S"
    timer = process.find("./bpmn:intermediateCatchEvent[@id='Event_WaitForPickup']", NS)
    assert timer.findtext("bpmn:timerEventDefinition/bpmn:timeDuration", namespaces=NS) == "PT1S"
    yes = process.find("./bpmn:sequenceFlow[@id='Flow_InStockYes']", NS)
    assert yes.findtext("bpmn:conditionExpression", namespaces=NS) == "${inStock}"
    for task in process.iterfind("./bpmn:serviceTask", NS):
        assert task.get(f"{{{NS['camunda']}}}type") == "external"
        assert task.findtext("bpmn:documentation", namespaces=NS), task.get("id")


def test_order_data_file_is_the_default_data() -> None:
    data = json.loads((PROCESSES / "order_fulfillment.data.json").read_text())
    assert data == _handler_module(ORDER).DEFAULT_DATA


def test_camunda8_and_spiff_examples_use_their_dialect() -> None:
    loan = _root(EXAMPLES[1])
    assert loan.get(f"{{{NS['modeler']}}}executionPlatform") == "Camunda Cloud"
    score = loan.find(".//bpmn:serviceTask[@id='Activity_ScoreApplicant']", NS)
    task_def = score.find("bpmn:extensionElements/zeebe:taskDefinition", NS)
    assert (task_def.get("type"), task_def.get("retries")) == ("credit.score", "3")
    assert score.find(".//zeebe:header[@key='model']", NS).get("value") == "v2"
    assert score.find(".//zeebe:input", NS).get("source") == "=applicant.income"
    assert score.find(".//zeebe:output", NS).get("target") == "creditScore"
    expense = _root(EXAMPLES[2])
    script = expense.findtext(".//bpmn:scriptTask/bpmn:script", namespaces=NS)
    assert script == "total = amount * quantity"
    operator = expense.find(".//spiffworkflow:serviceTaskOperator[@id='finance/policy_check']", NS)
    assert operator.get("resultVariable") == "policy"
    assert [p.get("id") for p in operator.iterfind(".//spiffworkflow:parameter", NS)] == ["total", "category"]


# --- the handlers, called directly ------------------------------------------------------------

def _call(example: Example, name: str, *, params: dict | None = None, data: dict | None = None,
          headers: dict | None = None, key: str = "inst-1:task") -> Any:
    registered = _registry(example).get(name)
    assert registered is not None
    call = ServiceCall(params=dict(params or {}), data=dict(data or {}), headers=dict(headers or {}),
                       instance_id="inst-1", element_id="task", idempotency_key=key)
    return registered.func(call)


@pytest.fixture
def order_module() -> Iterator[ModuleType]:
    module = _handler_module(ORDER)
    module.reset()
    yield module
    module.reset()


def _order(**changes: Any) -> dict:
    order = json.loads(json.dumps(_handler_module(ORDER).DEFAULT_DATA))["order"]
    order.update(changes)
    return {"order": order}


def test_stock_decides_reserve_or_back_order(order_module: ModuleType) -> None:
    assert _call(ORDER, "erp.check-stock", params={"sku": "BOOK-42", "quantity": 2, "warehouse": "MAIN"},
                 data=_order())["inStock"] is True
    assert _call(ORDER, "erp.check-stock", params={"sku": "GADGET-9", "quantity": 1}, data=_order())["inStock"] is False
    assert _call(ORDER, "erp.check-stock", params={"sku": "LAMP-3", "quantity": 2}, data=_order())["inStock"] is False
    assert _call(ORDER, "erp.reserve-stock", data=_order())["reservationId"] == "RES-A-1001"
    assert _call(ORDER, "erp.back-order", data=_order(sku="GADGET-9"))["backOrderId"] == "BO-A-1001"


@pytest.mark.parametrize("card, amount", [("4000000000000002", 59.90), ("4242424242424242", 5000.01)])
def test_payment_declines_raise_payment_declined(order_module: ModuleType, card: str, amount: float) -> None:
    with pytest.raises(BpmnError) as raised:
        _call(ORDER, "payment.charge", params={"card": card, "amount": amount}, data=_order(card=card, amount=amount))
    assert raised.value.code == "PAYMENT_DECLINED"
    assert order_module.CHARGES == {}


def test_a_retried_charge_is_not_charged_twice(order_module: ModuleType) -> None:
    params = {"card": "4242424242424242", "amount": 59.90, "currency": "EUR"}
    first = _call(ORDER, "payment.charge", params=params, data=_order(), key="inst-1:Activity_ChargePayment")
    again = _call(ORDER, "payment.charge", params=params, data=_order(), key="inst-1:Activity_ChargePayment")
    assert first == again == {"chargeId": "CH-A-1001-1", "amountCharged": 59.9}
    assert len(order_module.CHARGES) == 1
    other = _call(ORDER, "payment.charge", params=params, data=_order(), key="inst-2:Activity_ChargePayment")
    assert other["chargeId"] == "CH-A-1001-2"


def test_the_rest_of_the_order_handlers(order_module: ModuleType) -> None:
    data = {**_order(), "chargeId": "CH-A-1001-1", "reservationId": "RES-A-1001"}
    assert _call(ORDER, "crm.update-order", data=data) == {"crmUpdated": True}
    shipment = _call(ORDER, "logistics.book-shipment", data=data)
    assert shipment["shipmentId"] == "SHP-A-1001"
    assert _call(ORDER, "crm.notify-shipped", data={**data, **shipment})["notifiedShipped"] is True
    assert _call(ORDER, "crm.notify-declined", data=data)["notifiedDeclined"] is True
    assert [mail["to"] for mail in order_module.OUTBOX] == ["ada@example.com", "ada@example.com"]


def test_loan_score_uses_the_mapped_income_and_the_model_header() -> None:
    loan = EXAMPLES[1]
    assert _call(loan, "credit.score", params={"income": 52000}, headers={"model": "v2"}) == {"score": 647}
    assert _call(loan, "credit.score", params={"income": 52000}, headers={"model": "v1"}) == {"score": 560}
    assert _call(loan, "credit.score", params={"income": 30000}, headers={"model": "v2"})["score"] < 600
    approved = _call(loan, "loan.approve", data={"creditScore": 647, **_handler_module(loan).DEFAULT_DATA})
    assert approved["loanStatus"] == "approved" and approved["approvalId"] == "LN-P-7"
    assert _call(loan, "loan.reject", data={"creditScore": 500})["loanStatus"] == "rejected"


def test_expense_policy_and_pay_out() -> None:
    expense = EXAMPLES[2]
    assert _call(expense, "finance/policy_check", params={"total": 241.0, "category": "travel"})["approved"] is True
    assert _call(expense, "finance/policy_check", params={"total": 240.0, "category": "meals"})["approved"] is False
    assert _call(expense, "finance/policy_check", params={"total": 1.0, "category": "yachts"})["approved"] is False
    receipt = _call(expense, "finance/pay_out", params={"amount": 241.0, "employee": "grace"})
    assert receipt["amount"] == 241.0 and receipt["paymentId"].startswith("PAY-")
