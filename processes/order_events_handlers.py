"""Handlers for order_events.bpmn: an in-memory warehouse and carrier (deterministic, reset with reset())."""

from __future__ import annotations

from typing import Any

from bpmn_runner import ServiceCall, handler

STOCK: dict[str, int] = {}
SHIPMENTS: dict[str, dict[str, Any]] = {}
INITIAL_STOCK = {"BOOK-42": 25, "MUG-7": 120}
#: The data of an order.placed event (what `run --data` can use to try the process without a broker).
DEFAULT_DATA: dict[str, Any] = {"orderId": "A-7", "sku": "MUG-7", "quantity": 3}


def reset() -> None:
    STOCK.clear()
    STOCK.update(INITIAL_STOCK)
    SHIPMENTS.clear()


reset()


@handler("stock.reserve")
def reserve(call: ServiceCall) -> dict[str, Any]:
    """Reserve the order's quantity (an unknown SKU counts as in stock: this warehouse is a demo)."""
    sku, quantity = call.data.get("sku", ""), int(call.data.get("quantity", 1))
    STOCK[sku] = STOCK.get(sku, quantity) - quantity
    return {"reserved": True}


@handler("shipping.book")
def book(call: ServiceCall) -> dict[str, Any]:
    """Book a parcel; the tracking number depends only on the order id, so a retried call books it once."""
    order_id = str(call.data.get("orderId", ""))
    shipment = SHIPMENTS.setdefault(order_id, {"carrier": "DHL", "trackingNumber": f"TRK-{order_id}"})
    return {"carrier": shipment["carrier"], "trackingNumber": shipment["trackingNumber"]}
