"""Handlers for loan_approval_c8.bpmn: an in-memory credit bureau and loan book (Camunda 8 job types)."""

from __future__ import annotations

from typing import Any

from bpmn_runner import ServiceCall, handler

#: Income (per year) that buys one score point above the floor of 300, per scoring model.
#: The diagram picks the model with the task header `model`.
INCOME_PER_POINT: dict[str, float] = {"v1": 200.0, "v2": 150.0}
SCORE_FLOOR, SCORE_CEILING = 300, 850

#: Loan decisions by applicant id.
LOANS: dict[str, dict[str, Any]] = {}

#: A happy-path application: income 52000 scores 647 with model v2, so the loan is approved.
#: An income below 45000 scores under 600 and is rejected.
DEFAULT_DATA: dict[str, Any] = {
    "applicant": {"id": "P-7", "name": "Grace Hopper", "income": 52000},
    "loanAmount": 15000,
}


def reset() -> None:
    """Forget every loan decision."""
    LOANS.clear()


def _applicant_id(call: ServiceCall) -> str:
    applicant = call.data.get("applicant") or {}
    return str(applicant.get("id", call.instance_id))


@handler("credit.score", label="Score applicant", inputs={"income": "number"}, outputs={"score": "integer"})
def score_applicant(call: ServiceCall) -> dict[str, Any]:
    """Score the applicant from the mapped input `income` with the model named by the header `model`.

    Returns `score`; the diagram's output mapping stores it as creditScore.
    """
    income = float(call.params["income"])
    model = call.headers.get("model", "v1")
    if model not in INCOME_PER_POINT:
        raise ValueError(f"unknown scoring model {model!r}; known: {', '.join(sorted(INCOME_PER_POINT))}")
    score = SCORE_FLOOR + income / INCOME_PER_POINT[model]
    return {"score": int(min(SCORE_CEILING, max(SCORE_FLOOR, round(score))))}


@handler("loan.approve", label="Approve loan",
         outputs={"loanStatus": "string", "approvalId": "string", "interestRate": "number"})
def approve_loan(call: ServiceCall) -> dict[str, Any]:
    """Approve the loan; a credit score of 750 or more gets the better interest rate."""
    score = int(call.data.get("creditScore", 0))
    applicant_id = _applicant_id(call)
    rate = 4.5 if score >= 750 else 6.9
    LOANS[applicant_id] = {"status": "approved", "amount": call.data.get("loanAmount"), "rate": rate}
    return {"loanStatus": "approved", "approvalId": f"LN-{applicant_id}", "interestRate": rate}


@handler("loan.reject", label="Reject loan", outputs={"loanStatus": "string", "rejectionReason": "string"})
def reject_loan(call: ServiceCall) -> dict[str, Any]:
    """Reject the loan and say why."""
    score = call.data.get("creditScore")
    applicant_id = _applicant_id(call)
    LOANS[applicant_id] = {"status": "rejected", "amount": call.data.get("loanAmount")}
    return {"loanStatus": "rejected", "rejectionReason": f"credit score {score} is below 600"}
