"""Shape a decision's result as the BPMN engines do: Camunda 7's mapDecisionResult and Camunda 8's result variable."""

from __future__ import annotations

from typing import Any

from .. import feel
from .errors import DecisionError
from .evaluation import DecisionModel, DecisionResult
from .model import DecisionTable
from .tables import HIT_POLICY_ABBREVIATIONS, SINGLE_HIT

MAPPINGS = ("singleEntry", "singleResult", "collectEntries", "resultList")


def rule_results(model: DecisionModel, result: DecisionResult) -> list[dict[str, Any]]:
    """Camunda 7's decision result: one map of output name to value per matched rule (JSON-ready values)."""
    _, decision = model.find_decision(result.decision_id)
    table = decision.expression
    value = feel.to_json(result.value)
    if not isinstance(table, DecisionTable):
        return [{decision.variable.name or decision.name: value}]
    names = [o.name or o.label or f"output{i + 1}" for i, o in enumerate(table.outputs)]
    policy = HIT_POLICY_ABBREVIATIONS.get(table.hit_policy, table.hit_policy)
    if value is None or (not result.matched_rules.get(decision.id) and not _has_defaults(table)):
        return []
    single = policy in SINGLE_HIT or bool(table.aggregation)
    rows = [value] if single else list(value)
    return [row if len(names) > 1 and isinstance(row, dict) else {names[0]: row} for row in rows]


def _has_defaults(table: DecisionTable) -> bool:
    return any(o.default is not None for o in table.outputs)


def map_decision_result(mapping: str | None, rows: list[dict[str, Any]], decision: str) -> Any:
    """camunda:mapDecisionResult (default resultList); a result that does not fit the mapping is an error, as in
    Camunda (docs.camunda.org: user-guide/process-engine/decisions/bpmn-cmmn, 'Decision Result')."""
    kind = mapping or "resultList"
    if kind == "resultList":
        return rows
    if kind == "collectEntries":
        if any(len(row) > 1 for row in rows):
            raise DecisionError(f"decision {decision!r}: collectEntries needs a single output, but a rule gives "
                                f"{len(max(rows, key=len))}; use resultList")
        return [next(iter(row.values())) for row in rows]
    if len(rows) > 1:
        raise DecisionError(f"decision {decision!r}: {kind} needs at most one matching rule, but {len(rows)} "
                            f"matched; use collectEntries or resultList")
    if kind == "singleResult":
        return rows[0] if rows else None
    if kind == "singleEntry":
        if not rows:
            return None
        if len(rows[0]) > 1:
            raise DecisionError(f"decision {decision!r}: singleEntry needs a single output, but the rule gives "
                                f"{len(rows[0])}; use singleResult")
        return next(iter(rows[0].values()))
    raise DecisionError(f"decision {decision!r}: unknown camunda:mapDecisionResult {kind!r}; use one of "
                        f"{', '.join(MAPPINGS)}")


def merged_outputs(rows: list[dict[str, Any]], multiple: bool) -> dict[str, Any]:
    """Without a result variable: the outputs merged into the process data (a list per output for several rules)."""
    if not multiple:
        return dict(rows[0]) if rows else {}
    out: dict[str, list[Any]] = {}
    for row in rows:
        for key, value in row.items():
            out.setdefault(key, []).append(value)
    return out
