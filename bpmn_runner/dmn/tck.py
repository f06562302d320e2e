"""Run DMN TCK test cases against a decision model and compare the results (the TCK runner's core)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from .. import feel
from .evaluation import DecisionModel, Evaluation


@dataclass
class CaseOutcome:
    case_id: str
    status: str            # SUCCESS | FAILURE | ERROR
    message: str = ""
    strict_status: str = ""  # the same with exact decimal equality


def same_value(expected: Any, actual: Any, strict: bool = False) -> bool:
    """TCK equality: decimals by value (within a relative 1e-10 unless `strict`), temporal values by value and
    kind, lists and contexts element by element."""
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(expected, bool) or isinstance(actual, bool):
        return isinstance(expected, bool) and isinstance(actual, bool) and expected == actual
    if isinstance(expected, Decimal):
        return isinstance(actual, Decimal) and (actual == expected or (not strict and _close(expected, actual)))
    if isinstance(expected, str):
        return isinstance(actual, str) and actual == expected
    if isinstance(expected, list):
        return isinstance(actual, list) and len(actual) == len(expected) and \
            all(same_value(e, a, strict) for e, a in zip(expected, actual))
    if isinstance(expected, dict):
        return isinstance(actual, dict) and set(expected) == set(actual) and \
            all(same_value(v, actual.get(k), strict) for k, v in expected.items())
    if isinstance(expected, dt.datetime):
        return isinstance(actual, dt.datetime) and _same_moment(expected, actual)
    if isinstance(expected, dt.date):
        return type(actual) is dt.date and actual == expected
    if isinstance(expected, dt.time):
        return isinstance(actual, dt.time) and (expected.tzinfo is None) == (actual.tzinfo is None) and \
            expected == actual and _same_offset(expected, actual)
    return type(expected) is type(actual) and expected == actual


RELATIVE_TOLERANCE = Decimal("1e-10")


STATED_DIGITS = 8


def _close(expected: Decimal, actual: Decimal) -> bool:
    """Some TCK tests give results computed in binary floating point (2778.69354943277 for a mortgage payment,
    exact to about 15 digits): a relative difference under 1e-10 is such a rounding difference, not a wrong
    value. A long expected value (8 or more significant digits, 0.36787944 for exp(-1)) also states the precision
    it checks: the value rounded to that many digits must equal it."""
    if not (expected.is_finite() and actual.is_finite()) or expected == 0 or actual == 0:
        return False
    try:
        if abs(actual - expected) <= abs(expected) * RELATIVE_TOLERANCE:
            return True
        digits = len(expected.as_tuple().digits)
        if digits < STATED_DIGITS:
            return False
        exponent = actual.adjusted() - digits + 1
        return actual.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_HALF_UP) == expected
    except InvalidOperation:
        return False


def _same_moment(a: dt.datetime, b: dt.datetime) -> bool:
    if (a.tzinfo is None) != (b.tzinfo is None):
        return False
    return a == b and _same_offset(a, b)


def _same_offset(a: Any, b: Any) -> bool:
    if a.tzinfo is None:
        return True
    try:
        return a.utcoffset() == b.utcoffset()
    except (TypeError, ValueError):
        return True


def show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(feel.to_json(value))


def run_case(model: DecisionModel, case: Any, strict: bool = False) -> CaseOutcome:
    """One TCK test case (a `loader.tck.TckCase`): SUCCESS, FAILURE (a wrong value) or ERROR (an exception)."""
    try:
        actual, errors = _actual_results(model, case)
    except Exception as exc:  # noqa: BLE001 - the runner reports every crash as an ERROR row
        return CaseOutcome(case.id, "ERROR", f"{type(exc).__name__}: {exc}", "ERROR")
    exact = all(same_value(r.expected, actual.get(r.name), True) for r in case.results)
    for result in case.results:
        found = actual.get(result.name)
        if not same_value(result.expected, found, strict):
            why = f" ({errors[0]})" if errors else ""
            return CaseOutcome(case.id, "FAILURE", f"FAILURE: {result.name!r} expected={show(result.expected)!r} "
                                                   f"but found={show(found)!r}{why}", "FAILURE")
    return CaseOutcome(case.id, "SUCCESS", "", "SUCCESS" if exact else "FAILURE")


def _actual_results(model: DecisionModel, case: Any) -> tuple[dict[str, Any], list[str]]:
    main = model.main
    inputs = {i.name: i.value for i in case.inputs if not i.namespace or i.namespace == main.namespace}
    namespaced = {(i.namespace or main.namespace, i.name): i.value for i in case.inputs}
    if case.kind != "decision" and case.invocable:
        value, errors = model.invoke(case.invocable, inputs)
        if isinstance(value, dict) and all(r.name in value for r in case.results):
            return value, errors
        return {r.name: value for r in case.results}, errors
    run = Evaluation(model, inputs, namespaced)
    out = {}
    for result in case.results:
        defs, decision = model.find_decision(result.name)
        out[result.name] = run.decision(defs, decision)
    return out, run.errors
