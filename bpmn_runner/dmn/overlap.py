"""Static overlap of decision table rules: which rule pairs can match the same inputs (UNIQUE and ANY tables).

Only simple entries are understood (`-`, literals, comparisons, intervals, lists of those); a pair with any other
entry is never reported, so every finding is a real overlap."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from .model import DecisionTable, Rule
from .text import rule_label, split_top_level

_COMPARISON = re.compile(r"^(<=|>=|<|>|=)?\s*(.+)$")
_INTERVAL = re.compile(r"^([\[\(\]])\s*(.+?)\s*\.\.\s*(.+?)\s*([\]\)\[])$")
ANY = "any"


@dataclass(frozen=True)
class Interval:
    low: Decimal | None
    low_closed: bool
    high: Decimal | None
    high_closed: bool

    def meets(self, other: "Interval") -> bool:
        return _below(self.low, self.low_closed, other.high, other.high_closed) and \
            _below(other.low, other.low_closed, self.high, self.high_closed)


def _below(low: Decimal | None, low_closed: bool, high: Decimal | None, high_closed: bool) -> bool:
    if low is None or high is None:
        return True
    return low < high or (low == high and low_closed and high_closed)


def _literal(text: str) -> Any:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"' and '"' not in text[1:-1]:
        return text[1:-1]
    if text in ("true", "false"):
        return text == "true"
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def parse_entry(text: str) -> list[Any] | str | None:
    """`-` -> ANY; simple tests -> a list of points and Intervals; anything else -> None (not understood)."""
    text = (text or "").strip()
    if text in ("", "-"):
        return ANY
    atoms: list[Any] = []
    for part in split_top_level(text):
        interval = _INTERVAL.match(part)
        if interval:
            low, high = _literal(interval.group(2)), _literal(interval.group(3))
            if not isinstance(low, Decimal) or not isinstance(high, Decimal):
                return None
            atoms.append(Interval(low, interval.group(1) == "[", high, interval.group(4) == "]"))
            continue
        comparison = _COMPARISON.match(part)
        if not comparison:
            return None
        operator, value = comparison.group(1), _literal(comparison.group(2))
        if value is None:
            return None
        if operator in (None, "="):
            atoms.append(value)
        elif not isinstance(value, Decimal):
            return None
        elif operator in ("<", "<="):
            atoms.append(Interval(None, False, value, operator == "<="))
        else:
            atoms.append(Interval(value, operator == ">=", None, False))
    return atoms


def _atoms_meet(a: Any, b: Any) -> bool:
    if isinstance(a, Interval) and isinstance(b, Interval):
        return a.meets(b)
    if isinstance(a, Interval):
        a, b = b, a
    if isinstance(b, Interval):
        return isinstance(a, Decimal) and b.meets(Interval(a, True, a, True))
    return type(a) is type(b) and a == b


def entries_meet(a: list[Any] | str, b: list[Any] | str) -> bool:
    if a == ANY or b == ANY:
        return True
    return any(_atoms_meet(x, y) for x in a for y in b)


def outputs_differ(first: Rule, second: Rule) -> bool:
    """Whether two rules surely give different outputs: some output column holds two different literals."""
    for a, b in zip(first.output_entries, second.output_entries):
        x, y = _literal(a.text), _literal(b.text)
        if x is not None and y is not None and (type(x) is not type(y) or x != y):
            return True
    return False


def overlapping_rules(table: DecisionTable, limit: int = 5, *,
                      differing_outputs: bool = False) -> list[tuple[str, str]]:
    """Pairs of rules (labels) that match a common input, at most `limit` of them; with `differing_outputs`,
    only pairs whose outputs surely differ (what an ANY table forbids)."""
    parsed = [[parse_entry(e.text) for e in rule.input_entries] for rule in table.rules]
    found: list[tuple[str, str]] = []
    for i, first in enumerate(parsed):
        if any(p is None for p in first):
            continue
        for j in range(i + 1, len(parsed)):
            second = parsed[j]
            if any(p is None for p in second) or len(second) != len(first):
                continue
            if differing_outputs and not outputs_differ(table.rules[i], table.rules[j]):
                continue
            if all(entries_meet(a, b) for a, b in zip(first, second)):  # type: ignore[arg-type]
                found.append((rule_label(table.rules[i], i), rule_label(table.rules[j], j)))
                if len(found) >= limit:
                    return found
    return found
