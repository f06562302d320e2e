"""Handlers for expense_approval_spiff.bpmn: an in-memory finance service (SpiffArena operators)."""

from __future__ import annotations

from typing import Any

from bpmn_runner import ServiceCall, handler

#: Largest total allowed per expense category; a category not listed is never approved.
POLICY_LIMITS: dict[str, float] = {"travel": 2000.0, "equipment": 1000.0, "training": 1500.0, "meals": 150.0}

#: Every payout made, in order.
PAYOUTS: list[dict[str, Any]] = []

#: A happy-path claim: 2 x 120.50 travel = 241.00, within the 2000 travel limit, so it is paid out.
#: Rejected instead: e.g. {"category": "meals", "amount": 80, "quantity": 3} (240 > 150).
DEFAULT_DATA: dict[str, Any] = {"employee": "grace", "category": "travel", "amount": 120.5, "quantity": 2}


def reset() -> None:
    """Forget every payout."""
    PAYOUTS.clear()


@handler("finance/policy_check", label="Check expense policy",
         inputs={"total": "number", "category": "string"},
         outputs={"approved": "boolean", "limit": "number", "reason": "string"})
def policy_check(call: ServiceCall) -> dict[str, Any]:
    """Approve the expense when `total` is within the limit of `category`.

    The diagram stores the result under the operator's resultVariable `policy`.
    """
    total = float(call.params["total"])
    category = str(call.params["category"])
    limit = POLICY_LIMITS.get(category)
    if limit is None:
        return {"approved": False, "limit": 0.0, "reason": f"no expense policy for category {category!r}"}
    approved = total <= limit
    reason = "within policy" if approved else f"{total:.2f} is over the {category} limit of {limit:.2f}"
    return {"approved": approved, "limit": limit, "reason": reason}


@handler("finance/pay_out", label="Pay out", inputs={"amount": "number", "employee": "string"},
         outputs={"paymentId": "string", "employee": "string", "amount": "number"})
def pay_out(call: ServiceCall) -> dict[str, Any]:
    """Pay `amount` to `employee`; the receipt is stored under the resultVariable `payout`."""
    amount = round(float(call.params["amount"]), 2)
    employee = str(call.params["employee"])
    payment = {"paymentId": f"PAY-{len(PAYOUTS) + 1:04d}", "employee": employee, "amount": amount}
    PAYOUTS.append(payment)
    return dict(payment)
