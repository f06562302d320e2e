"""The order example as a saga: when no carrier takes the parcel, compensation refunds the card and releases the
stock (last done, first undone: BPMN 2.0 section 10.7.5, Camunda 7 "Cancel and Compensation Events"), then the
customer is told. In memory, through save and reload, through the store with a worker, and on the report."""

from __future__ import annotations

import json
from pathlib import Path

import lxml.html

from bpmn_runner import HandlerRegistry
from bpmn_runner.registry import import_handler_module
from bpmn_runner.report import render_instance_report

from .durable import MovableClock, runtime, worker
from .scenario import Scenario

PROCESSES = Path(__file__).resolve().parents[1] / "processes"
ORDER = PROCESSES / "order_fulfillment.bpmn"


def order(**changes: object) -> dict:
    data = json.loads((PROCESSES / "order_fulfillment.data.json").read_text())
    data["order"].update(changes)
    return data


def handlers() -> tuple[HandlerRegistry, object]:
    module = import_handler_module(str(PROCESSES / "order_handlers.py"))
    module.reset()
    registry = HandlerRegistry()
    registry.add_module(module)
    return registry, module


def test_no_carrier_refunds_the_card_then_releases_the_stock() -> None:
    registry, shop = handlers()
    s = Scenario(ORDER, registry, data=order(id="A-7", country="AQ"))
    result = s.result
    assert result.status == "completed", result.error
    assert result.path[-2:] == ["Activity_NotifyCancelled", "Event_OrderRefunded"]
    assert result.path.index("Activity_RefundPayment") < result.path.index("Activity_ReleaseStock")
    assert [h.element_id for h in result.history if h.event == "compensated"] == \
        ["Activity_ChargePayment", "Activity_ReserveStock"]
    assert result.data["refundId"] == "RF-CH-A-7-1" and result.data["stockReleased"] is True
    assert shop.REFUNDS == {"CH-A-7-1": {"id": "RF-CH-A-7-1", "amount": 59.9}}
    assert shop.RESERVATIONS == {} and shop.SHIPMENTS == {}
    assert shop.CRM["A-7"]["status"] == "refunded"
    assert shop.OUTBOX[-1]["subject"] == "Order A-7 cancelled"


def test_a_shipped_order_is_never_compensated() -> None:
    registry, shop = handlers()
    s = Scenario(ORDER, registry, data=order(id="A-8"), timer_wait=2)
    assert s.result.status == "completed" and s.result.path[-1] == "Event_OrderShipped"
    assert not [h for h in s.result.history if h.event == "compensated"]
    assert shop.REFUNDS == {} and "A-8" in shop.RESERVATIONS


def test_the_saga_runs_as_jobs_through_the_store(store, tmp_path: Path) -> None:
    registry, shop = handlers()
    rt = runtime(store, registry, MovableClock())
    iid = rt.start([ORDER], data=order(id="A-9", country="AQ"))["instance_id"]
    worker(rt).run_once()
    shown = rt.show(iid)
    assert shown["status"] == "completed", shown
    assert [h["element_id"] for h in shown["history"] if h["event"] == "compensated"] == \
        ["Activity_ChargePayment", "Activity_ReserveStock"]
    assert "CH-A-9-1" in shop.REFUNDS and shop.RESERVATIONS == {}


def test_the_instance_report_marks_the_compensated_activities() -> None:
    registry, _ = handlers()
    result = Scenario(ORDER, registry, data=order(id="A-10", country="AQ")).result
    html = render_instance_report([str(ORDER)], result)  # type: ignore[arg-type]
    tree = lxml.html.fromstring(html)

    def classes(element_id: str) -> set[str]:
        found = tree.xpath(f"//*[@data-element-id='{element_id}' and contains(@class, 'element')]")
        return set(found[0].get("class").split()) if found else set()
    assert "compensated" in classes("Activity_ChargePayment")
    assert "compensated" in classes("Activity_ReserveStock")
    assert "compensated" not in classes("Activity_UpdateCrm")
    assert "traversed" in classes("Activity_RefundPayment") and "traversed" in classes("Event_RefundCharge")
    assert "compensated (undone)" in html
