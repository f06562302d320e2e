"""Run DMN TCK test cases against a decision model and compare the results (the TCK runner's core)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from .. import feel
from .evaluation import DecisionModel, Evaluation


@dataclass
class CaseOutcome:
    case_id: str
    status: str            # SUCCESS | FAILURE | ERROR
    message: str = ""
    exact: bool = False    # every number equal to the last digit, not only to the TCK's comparison precision


# The TCK's own runners compare numbers to this absolute precision (NUMBER_COMPARISON_PRECISION in the TCK's
# Drools and Camunda runners, github.com/dmn-tck/tck runners/): the published vendor results are measured with it.
# Exact equality cannot be the rule: the expected values of some tests were computed in binary floating point and
# contradict one another (the same mortgage payment is 2778.69354943277 in 0008-LX-arithmetic and
# 2778.6935494327668 in 0041-multiple-nestedcontext; 0052 gives exp(4) as 54.59815003).
NUMBER_PRECISION = Decimal("1e-8")


def same_value(expected: Any, actual: Any, exact: bool = False) -> bool:
    """TCK equality: numbers as decimals equal within the TCK's comparison precision (to the last digit when
    `exact`), booleans and strings exactly, dates, times and date-times by value, kind and offset, durations by
    kind and value, lists and contexts element by element (no extra or missing entry)."""
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(expected, bool) or isinstance(actual, bool):
        return isinstance(expected, bool) and isinstance(actual, bool) and expected == actual
    if isinstance(expected, Decimal):
        return isinstance(actual, Decimal) and _same_number(expected, actual, exact)
    if isinstance(expected, str):
        return isinstance(actual, str) and actual == expected
    if isinstance(expected, list):
        return isinstance(actual, list) and len(actual) == len(expected) and \
            all(same_value(e, a, exact) for e, a in zip(expected, actual))
    if isinstance(expected, dict):
        return isinstance(actual, dict) and set(expected) == set(actual) and \
            all(same_value(v, actual.get(k), exact) for k, v in expected.items())
    if isinstance(expected, dt.datetime):
        return isinstance(actual, dt.datetime) and _same_moment(expected, actual)
    if isinstance(expected, dt.date):
        return type(actual) is dt.date and actual == expected
    if isinstance(expected, dt.time):
        return isinstance(actual, dt.time) and (expected.tzinfo is None) == (actual.tzinfo is None) and \
            expected == actual and _same_offset(expected, actual)
    return type(expected) is type(actual) and expected == actual


def _same_number(expected: Decimal, actual: Decimal, exact: bool) -> bool:
    if actual == expected:
        return True
    if exact or not (expected.is_finite() and actual.is_finite()):
        return False
    try:
        return abs(expected - actual) < NUMBER_PRECISION
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


def run_case(model: DecisionModel, case: Any) -> CaseOutcome:
    """One TCK test case (a `loader.tck.TckCase`): SUCCESS, FAILURE (a wrong value) or ERROR (an exception)."""
    try:
        actual, errors = _actual_results(model, case)
    except Exception as exc:  # noqa: BLE001 - the runner reports every crash as an ERROR row
        return CaseOutcome(case.id, "ERROR", f"{type(exc).__name__}: {exc}")
    for result in case.results:
        found = actual.get(result.name)
        if not same_value(result.expected, found):
            why = f" ({errors[0]})" if errors else ""
            return CaseOutcome(case.id, "FAILURE", f"FAILURE: {result.name!r} expected={show(result.expected)!r} "
                                                   f"but found={show(found)!r}{why}")
    exact = all(same_value(r.expected, actual.get(r.name), exact=True) for r in case.results)
    return CaseOutcome(case.id, "SUCCESS", "", exact)


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
