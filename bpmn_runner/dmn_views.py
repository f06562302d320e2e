"""Decision views for the reports: each decision table as the modeler shows it (hit policy, inputs, outputs,
rules, annotations), other decisions by their expression. JSON-ready dicts, no HTML."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .dmn.model import Context, DecisionTable, Definitions, LiteralExpression
from .dmn.tables import HIT_POLICY_ABBREVIATIONS
from .errors import BpmnRunnerError
from .loader.dmn import read_dmn_bytes, read_dmn_file

_POLICY_LETTERS = {v: k for k, v in HIT_POLICY_ABBREVIATIONS.items()}
_AGGREGATION_SIGNS = {"SUM": "+", "COUNT": "#", "MIN": "<", "MAX": ">"}


def hit_policy_label(table: DecisionTable) -> str:
    """`U`, `C+`, `C#`... as the modeler writes it in the table's corner."""
    policy = HIT_POLICY_ABBREVIATIONS.get(table.hit_policy, table.hit_policy)
    letter = _POLICY_LETTERS.get(policy, policy)
    return letter + _AGGREGATION_SIGNS.get((table.aggregation or "").upper(), "")


def table_view(table: DecisionTable, matched: list[str] | None = None) -> dict[str, Any]:
    hits = set(matched or [])
    rows = []
    for index, rule in enumerate(table.rules):
        label = rule.id or f"rule {index + 1}"
        rows.append({"number": index + 1, "id": rule.id or "", "matched": label in hits,
                     "inputs": [e.text.strip() or "-" for e in rule.input_entries],
                     "outputs": [e.text.strip() for e in rule.output_entries],
                     "annotations": [a.strip() for a in rule.annotations] or ([rule.description] if rule.description
                                                                              else [])})
    annotations = table.annotation_names or (["Annotation"] if any(r["annotations"] for r in rows) else [])
    for row in rows:
        row["annotations"] = (row["annotations"] + [""] * len(annotations))[:len(annotations)]
    return {"hit_policy": hit_policy_label(table), "hit_policy_name": table.hit_policy.title(),
            "inputs": [{"label": c.label or c.expression.text.strip(), "expression": c.expression.text.strip(),
                        "type": c.expression.type_ref or "",
                        "values": c.input_values.text.strip() if c.input_values else ""} for c in table.inputs],
            "outputs": [{"label": o.label or o.name, "name": o.name, "type": o.type_ref or "",
                         "values": o.output_values.text.strip() if o.output_values else "",
                         "default": o.default.text.strip() if o.default else ""} for o in table.outputs],
            "annotation_names": annotations, "rules": rows}


def _kind_words(expression: Any) -> str:
    """`FunctionDefinition` -> `function definition`; None -> `no decision logic`."""
    if expression is None:
        return "no decision logic"
    name = type(expression).__name__
    return "".join(f" {c.lower()}" if c.isupper() else c for c in name).strip()


def decision_views(definitions: Definitions, matched: set[str] | None = None) -> list[dict[str, Any]]:
    views = []
    for decision in definitions.decisions.values():
        expression = decision.expression
        view: dict[str, Any] = {"id": decision.id, "name": decision.name, "line": decision.line,
                                "type": decision.variable.type_ref or "", "table": None, "text": "", "entries": [],
                                "kind": _kind_words(expression)}
        if isinstance(expression, DecisionTable):
            view["kind"] = "decision table"
            view["table"] = table_view(expression, sorted(matched or ()))
        elif isinstance(expression, LiteralExpression):
            view["kind"] = "literal expression"
            view["text"] = expression.text.strip()
        elif isinstance(expression, Context):
            view["kind"] = "context"
            view["entries"] = [{"name": e.variable.name if e.variable else "(result)",
                                "text": e.value.text.strip() if isinstance(e.value, LiteralExpression)
                                else _kind_words(e.value)} for e in expression.entries]
        view["requires"] = [r.id for r in decision.required_decisions + decision.required_inputs]
        views.append(view)
    return views


def file_decision_views(path: str | Path, name: str | None = None, matched: set[str] | None = None, *,
                        content: bytes | None = None) -> dict[str, Any]:
    """The decisions of one DMN file (rows of the `matched` rule ids marked), or a note saying why they cannot be
    shown. With `content`, the file's bytes as loaded are read instead of the path."""
    label = name or Path(path).name
    try:
        definitions = read_dmn_bytes(content, label) if content is not None else read_dmn_file(path, label)
    except BpmnRunnerError as exc:
        return {"file": label, "decisions": [], "error": str(exc)}
    return {"file": label, "decisions": decision_views(definitions, matched), "error": ""}


MATCHED_PREFIX = "matched rules: "


def matched_rule_rows(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each completed business rule task of a run and the rules its decision matched (from the history detail)."""
    rows = []
    for event in history:
        detail = str(event.get("detail") or "")
        if event.get("event") == "completed" and detail.startswith(MATCHED_PREFIX):
            rules = detail[len(MATCHED_PREFIX):]
            rows.append({"id": str(event.get("element_id", "")), "name": str(event.get("name") or ""),
                         "rules": [] if rules == "none" else [r.strip() for r in rules.split(",")]})
    return rows
