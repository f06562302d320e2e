"""Every example process runs with its handlers, on each of its paths."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bpmn_runner import Engine, HandlerRegistry, load
from bpmn_runner.registry import import_handler_module

PROCESSES = Path(__file__).resolve().parents[1] / "processes"


def order(**changes: object) -> dict:
    data = json.loads((PROCESSES / "order_fulfillment.data.json").read_text())
    data["order"].update(changes)
    return data


def run_example(diagram: str, handlers: str, data: dict, **options: object):
    module = import_handler_module(str(PROCESSES / handlers))
    if hasattr(module, "reset"):
        module.reset()
    registry = HandlerRegistry()
    registry.add_module(module)
    definitions = load([PROCESSES / diagram])
    return Engine(registry, **options).start(definitions, None, data).run(), module


def test_order_happy_path_ships_the_order() -> None:
    result, erp = run_example("order_fulfillment.bpmn", "order_handlers.py", order())
    assert result.status == "completed"
    assert result.path[-1] == "Event_OrderShipped"
    assert {"Activity_ReserveStock", "Activity_UpdateCrm", "Activity_BookShipment"} <= set(result.path)
    assert result.data["orderStatus"] == "shipped" and result.data["shipmentId"]


def test_order_declined_card_cancels_the_order() -> None:
    result, _ = run_example("order_fulfillment.bpmn", "order_handlers.py", order(card="4000000000000002"))
    assert result.status == "completed"
    assert result.path[-3:] == ["Event_CardDeclined", "Activity_NotifyDeclined", "Event_OrderCancelled"]
    assert "Activity_BookShipment" not in result.path


def test_order_out_of_stock_takes_the_back_order_path() -> None:
    result, _ = run_example("order_fulfillment.bpmn", "order_handlers.py", order(sku="GADGET-9"))
    assert result.status == "completed"
    assert "Activity_CreateBackOrder" in result.path and "Activity_ReserveStock" not in result.path
    assert result.path[-1] == "Event_OrderShipped"


def test_order_waits_at_the_pickup_timer_and_resumes_after_reload() -> None:
    result, _ = run_example("order_fulfillment.bpmn", "order_handlers.py", order(), timer_wait=0)
    assert result.status == "waiting" and [w.element_id for w in result.waiting] == ["Event_WaitForPickup"]


@pytest.mark.parametrize("income, end", [(52000, "EndEvent_LoanApproved"), (20000, None)])
def test_camunda8_loan_example(income: int, end: str | None) -> None:
    module = import_handler_module(str(PROCESSES / "loan_handlers.py"))
    data = json.loads(json.dumps(module.DEFAULT_DATA))
    data["applicant"]["income"] = income
    result, _ = run_example("loan_approval_c8.bpmn", "loan_handlers.py", data)
    assert result.status == "completed"
    if end:
        assert result.path[-1] == end
    else:
        assert "Activity_RejectLoan" in result.path


@pytest.mark.parametrize("category, amount, quantity, paid", [("travel", 120.5, 2, True), ("meals", 80, 3, False)])
def test_spiffarena_expense_example(category: str, amount: float, quantity: int, paid: bool) -> None:
    data = {"employee": "grace", "category": category, "amount": amount, "quantity": quantity}
    result, _ = run_example("expense_approval_spiff.bpmn", "expense_handlers.py", data)
    assert result.status == "completed"
    assert result.data["total"] == amount * quantity
    assert ("payout" in result.data) is paid
