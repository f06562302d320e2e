"""Handlers for order_fulfillment.bpmn: an in-memory ERP, payment provider, CRM and carrier."""

from __future__ import annotations

from typing import Any

from bpmn_runner import BpmnError, ServiceCall, handler

# --- the simulated systems: module-level state, deterministic, reset with reset() ---------------

#: Units on hand per SKU in the main warehouse. GADGET-9 is sold out; an unknown SKU has none.
INITIAL_STOCK: dict[str, int] = {"BOOK-42": 25, "MUG-7": 120, "LAMP-3": 1, "GADGET-9": 0}
STOCK: dict[str, int] = dict(INITIAL_STOCK)
#: Reservations and back-orders by order id.
RESERVATIONS: dict[str, dict[str, Any]] = {}
BACK_ORDERS: dict[str, dict[str, Any]] = {}
#: Charges by idempotency key: a retried call with the same key is not charged again.
CHARGES: dict[str, dict[str, Any]] = {}
#: Refunds by charge id: refunding a charge twice refunds it once.
REFUNDS: dict[str, dict[str, Any]] = {}
#: CRM records and shipments by order id; OUTBOX holds every e-mail "sent" to a customer.
CRM: dict[str, dict[str, Any]] = {}
SHIPMENTS: dict[str, dict[str, Any]] = {}
OUTBOX: list[dict[str, str]] = []

#: Like Stripe's test card 4000 0000 0000 0002, a card ending in 0002 is always declined.
DECLINED_CARD_SUFFIX = "0002"
#: Charges above this amount are declined.
MAX_CHARGE = 5000.0
#: Countries no carrier delivers to: booking a shipment there throws NO_CARRIER (and the order is undone).
NO_CARRIER_COUNTRIES = frozenset({"AQ"})

#: A happy-path order: in stock, card accepted, ends at "Order shipped".
DEFAULT_DATA: dict[str, Any] = {
    "order": {
        "id": "A-1001",
        "sku": "BOOK-42",
        "quantity": 2,
        "amount": 59.90,
        "customer": {"name": "Ada Lovelace", "email": "ada@example.com"},
        "card": "4242424242424242",
    }
}


def reset() -> None:
    """Forget every reservation, charge, CRM record, shipment and e-mail (for tests and repeated demos)."""
    STOCK.clear()
    STOCK.update(INITIAL_STOCK)
    for table in (RESERVATIONS, BACK_ORDERS, CHARGES, REFUNDS, CRM, SHIPMENTS):
        table.clear()
    OUTBOX.clear()


def _order(call: ServiceCall) -> dict[str, Any]:
    order = call.data.get("order")
    if not isinstance(order, dict):
        raise ValueError("process variable 'order' is missing or not an object")
    return order


def _order_id(call: ServiceCall) -> str:
    return str(_order(call).get("id", call.instance_id))


def _send_mail(order: dict[str, Any], subject: str, body: str) -> None:
    customer = order.get("customer") or {}
    OUTBOX.append({"to": str(customer.get("email", "")), "name": str(customer.get("name", "")),
                   "subject": subject, "body": body})


# --- ERP ---------------------------------------------------------------------------------------

@handler("erp.check-stock", label="Check stock in ERP",
         inputs={"sku": "string", "quantity": "integer", "warehouse": "string"},
         outputs={"inStock": "boolean", "stockLevel": "integer"})
def check_stock(call: ServiceCall) -> dict[str, Any]:
    """Look up the stock of the ordered SKU; inStock is false when the quantity exceeds what is on hand.

    Reads the input mappings sku, quantity and warehouse (falling back to the order variable).
    """
    order = call.data.get("order") or {}
    sku = str(call.params.get("sku", order.get("sku", "")))
    quantity = int(call.params.get("quantity", order.get("quantity", 1)))
    on_hand = STOCK.get(sku, 0)
    return {"inStock": quantity <= on_hand, "stockLevel": on_hand}


@handler("erp.reserve-stock", label="Reserve stock", outputs={"reservationId": "string"})
def reserve_stock(call: ServiceCall) -> dict[str, Any]:
    """Reserve the ordered quantity for this order; reserving the same order twice keeps one reservation."""
    order = _order(call)
    order_id = _order_id(call)
    reservation = RESERVATIONS.setdefault(order_id, {
        "id": f"RES-{order_id}",
        "sku": order.get("sku"),
        "quantity": int(order.get("quantity", 1)),
    })
    return {"reservationId": reservation["id"]}


@handler("erp.back-order", label="Create back-order",
         outputs={"backOrderId": "string", "expectedInDays": "integer"})
def create_back_order(call: ServiceCall) -> dict[str, Any]:
    """Place a back-order with the supplier for an SKU that is not in stock."""
    order = _order(call)
    order_id = _order_id(call)
    back_order = BACK_ORDERS.setdefault(order_id, {
        "id": f"BO-{order_id}",
        "sku": order.get("sku"),
        "quantity": int(order.get("quantity", 1)),
        "expectedInDays": 14,
    })
    return {"backOrderId": back_order["id"], "expectedInDays": back_order["expectedInDays"]}


@handler("erp.release-stock", label="Release stock", outputs={"stockReleased": "boolean"})
def release_stock(call: ServiceCall) -> dict[str, Any]:
    """Compensation of reserve-stock: drop the order's reservation (releasing one that is gone changes nothing)."""
    released = RESERVATIONS.pop(_order_id(call), None)
    return {"stockReleased": released is not None}


# --- payment -----------------------------------------------------------------------------------

@handler("payment.charge", label="Charge payment",
         inputs={"amount": "number", "card": "string", "currency": "string"},
         outputs={"chargeId": "string", "amountCharged": "number"})
def charge_payment(call: ServiceCall) -> dict[str, Any]:
    """Charge the card; raise BpmnError PAYMENT_DECLINED for a card ending in 0002 or an amount over 5000.

    The charge is stored under call.idempotency_key, so a retried call returns the first charge
    instead of charging the customer twice.
    """
    previous = CHARGES.get(call.idempotency_key)
    if previous is not None:
        return {"chargeId": previous["id"], "amountCharged": previous["amount"]}
    order = call.data.get("order") or {}
    card = str(call.params.get("card", order.get("card", "")))
    amount = float(call.params.get("amount", order.get("amount", 0)))
    currency = str(call.params.get("currency", "EUR"))
    if card.endswith(DECLINED_CARD_SUFFIX):
        raise BpmnError("PAYMENT_DECLINED", f"card ending {card[-4:]} was declined",
                        {"declineReason": "card_declined"})
    if amount > MAX_CHARGE:
        raise BpmnError("PAYMENT_DECLINED", f"{amount:.2f} {currency} is over the {MAX_CHARGE:.0f} limit",
                        {"declineReason": "amount_over_limit"})
    order_id = str(order.get("id", call.instance_id))
    number = 1 + sum(1 for charge in CHARGES.values() if charge["orderId"] == order_id)
    charge = {"id": f"CH-{order_id}-{number}", "orderId": order_id, "amount": round(amount, 2),
              "currency": currency, "card": card[-4:]}
    CHARGES[call.idempotency_key] = charge
    return {"chargeId": charge["id"], "amountCharged": charge["amount"]}


@handler("payment.refund", label="Refund payment", outputs={"refundId": "string", "amountRefunded": "number"})
def refund_payment(call: ServiceCall) -> dict[str, Any]:
    """Compensation of payment.charge: refund the charge named by chargeId, once however often it is called."""
    charge_id = str(call.data.get("chargeId", ""))
    charge = next((c for c in CHARGES.values() if c["id"] == charge_id), None)
    if charge is None:
        raise ValueError(f"no charge {charge_id!r} to refund")
    refund = REFUNDS.setdefault(charge_id, {"id": f"RF-{charge_id}", "amount": charge["amount"]})
    return {"refundId": refund["id"], "amountRefunded": refund["amount"]}


# --- CRM ---------------------------------------------------------------------------------------

@handler("crm.notify-declined", label="Notify customer of declined payment",
         outputs={"notifiedDeclined": "boolean", "orderStatus": "string"})
def notify_declined(call: ServiceCall) -> dict[str, Any]:
    """E-mail the customer that the payment was declined and the order is cancelled."""
    order = _order(call)
    _send_mail(order, f"Payment declined for order {_order_id(call)}",
               "Your payment was declined, so we have cancelled the order.")
    CRM.setdefault(_order_id(call), {})["status"] = "cancelled"
    return {"notifiedDeclined": True, "orderStatus": "cancelled"}


@handler("crm.update-order", label="Update CRM", outputs={"crmUpdated": "boolean"})
def update_crm(call: ServiceCall) -> dict[str, Any]:
    """Record the paid order, with its charge and its reservation or back-order, on the CRM."""
    order = _order(call)
    record = CRM.setdefault(_order_id(call), {})
    record.update({
        "status": "paid",
        "customer": (order.get("customer") or {}).get("email"),
        "chargeId": call.data.get("chargeId"),
        "reservationId": call.data.get("reservationId"),
        "backOrderId": call.data.get("backOrderId"),
    })
    return {"crmUpdated": True}


@handler("crm.notify-shipped", label="Notify customer of shipment",
         outputs={"notifiedShipped": "boolean", "orderStatus": "string"})
def notify_shipped(call: ServiceCall) -> dict[str, Any]:
    """E-mail the customer that the parcel has been picked up, with the shipment id."""
    order = _order(call)
    shipment_id = call.data.get("shipmentId", "")
    _send_mail(order, f"Order {_order_id(call)} is on its way", f"Your parcel {shipment_id} has been picked up.")
    CRM.setdefault(_order_id(call), {})["status"] = "shipped"
    return {"notifiedShipped": True, "orderStatus": "shipped"}


@handler("crm.notify-cancelled", label="Notify customer of cancellation",
         outputs={"notifiedCancelled": "boolean", "orderStatus": "string"})
def notify_cancelled(call: ServiceCall) -> dict[str, Any]:
    """E-mail the customer that no carrier could take the parcel, so the card was refunded and the order cancelled."""
    order = _order(call)
    _send_mail(order, f"Order {_order_id(call)} cancelled",
               f"No carrier delivers to your address, so we refunded {call.data.get('refundId', 'your payment')}.")
    CRM.setdefault(_order_id(call), {})["status"] = "refunded"
    return {"notifiedCancelled": True, "orderStatus": "refunded"}


# --- logistics ---------------------------------------------------------------------------------

@handler("logistics.book-shipment", label="Book shipment",
         outputs={"shipmentId": "string", "carrier": "string"})
def book_shipment(call: ServiceCall) -> dict[str, Any]:
    """Book a parcel with the carrier; booking the same order twice returns the same shipment.

    Raises BpmnError NO_CARRIER when no carrier delivers to order.country (AQ), which undoes the order.
    """
    order = _order(call)
    order_id = _order_id(call)
    country = str(order.get("country", "DE"))
    if country in NO_CARRIER_COUNTRIES:
        raise BpmnError("NO_CARRIER", f"no carrier delivers to {country}", {"shippingProblem": "no_carrier"})
    shipment = SHIPMENTS.setdefault(order_id, {
        "id": f"SHP-{order_id}",
        "carrier": "DHL",
        "to": (order.get("customer") or {}).get("name"),
    })
    return {"shipmentId": shipment["id"], "carrier": shipment["carrier"]}
