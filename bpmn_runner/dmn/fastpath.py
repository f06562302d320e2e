"""Fast matching of simple decision table entries (literals, comparisons, intervals, lists of them) without the
FEEL evaluator; anything else is left to FEEL. Semantics are FEEL's: a test against null or a value of another
type does not match."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable

from .overlap import ANY, Interval, parse_entry

Matcher = Callable[[Any], bool]
USE_FEEL = "feel"


def _point(literal: Any) -> Matcher:
    kind = type(literal)
    return lambda value: type(value) is kind and value == literal


def _interval(interval: Interval) -> Matcher:
    low, high = interval.low, interval.high
    low_closed, high_closed = interval.low_closed, interval.high_closed

    def matches(value: Any) -> bool:
        if type(value) is not Decimal:
            return False
        if low is not None and (value < low or (value == low and not low_closed)):
            return False
        if high is not None and (value > high or (value == high and not high_closed)):
            return False
        return True
    return matches


def compile_entry(text: str) -> Matcher | None | str:
    """None: matches anything (`-`); a matcher; or USE_FEEL when the entry needs the FEEL evaluator."""
    parsed = parse_entry(text)
    if parsed == ANY:
        return None
    if parsed is None:
        return USE_FEEL
    matchers = [_interval(atom) if isinstance(atom, Interval) else _point(atom) for atom in parsed]
    if len(matchers) == 1:
        return matchers[0]
    return lambda value: any(m(value) for m in matchers)
