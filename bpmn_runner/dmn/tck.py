"""Run DMN TCK test cases against a decision model and compare the results (the TCK runner's core)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from .. import feel
from .evaluation import DecisionModel, Evaluation
from .types import TypeResolver, builtin_name


class UntypedText(str):
    """A test file's `<value>` without `xsi:type` (older TCK tests): its type is the model's (an input's typeRef)
    or, for an expected value, the type of the value found; text that reads as neither stays a string."""


_TEMPORAL = {"date": "date", "date and time": "date and time", "time": "time",
             "days and time duration": "duration", "years and months duration": "duration"}


def _guess(text: str) -> Any:
    """An untyped value with no type to go by, read as the TCK's Camunda runner reads it: number, boolean, text."""
    stripped = text.strip()
    if stripped in ("true", "false"):
        return stripped == "true"
    try:
        return Decimal(stripped)
    except InvalidOperation:
        return str(text)


def _as_type(text: str, type_name: str | None) -> Any:
    stripped = text.strip()
    if type_name == "number":
        try:
            return Decimal(stripped)
        except InvalidOperation:
            return str(text)
    if type_name == "boolean" and stripped in ("true", "false"):
        return stripped == "true"
    if type_name in _TEMPORAL:
        parsed = feel.evaluate(f"{_TEMPORAL[type_name]}(x)", {"x": stripped})
        return parsed if parsed is not None else str(text)
    if type_name == "string":
        return str(text)
    return _guess(text)


def typed_input(resolver: TypeResolver, value: Any, type_ref: str | None, depth: int = 0) -> Any:
    """Untyped text in an input value, read by the typeRef of the input data (its item definition's components,
    collections and base types)."""
    if depth > 20 or not _has_untyped(value):
        return value
    if not type_ref:
        return _untyped_guessed(value)
    base = builtin_name(type_ref)
    item = None if base is not None else resolver.item(type_ref)
    if item is None:
        if isinstance(value, UntypedText):
            return _as_type(value, base)
        return _untyped_guessed(value)
    if item.is_collection and isinstance(value, list):
        return [typed_input(resolver, v, item.type_ref, depth + 1) if not item.components else
                _components(resolver, v, item, depth) for v in value]
    if item.components and isinstance(value, dict):
        return _components(resolver, value, item, depth)
    return typed_input(resolver, value, item.type_ref, depth + 1)


def _components(resolver: TypeResolver, value: Any, item: Any, depth: int) -> Any:
    if not isinstance(value, dict):
        return _untyped_guessed(value)
    types = {c.name: c for c in item.components}
    out = {}
    for key, inner in value.items():
        component = types.get(key)
        if component is None:
            out[key] = _untyped_guessed(inner)
        elif component.components:
            out[key] = _components(resolver, inner, component, depth + 1)
        else:
            out[key] = typed_input(resolver, inner, component.type_ref, depth + 1)
    return out


def _has_untyped(value: Any) -> bool:
    if isinstance(value, UntypedText):
        return True
    if isinstance(value, list):
        return any(_has_untyped(v) for v in value)
    if isinstance(value, dict):
        return any(_has_untyped(v) for v in value.values())
    return False


def _untyped_guessed(value: Any) -> Any:
    if isinstance(value, UntypedText):
        return _guess(value)
    if isinstance(value, list):
        return [_untyped_guessed(v) for v in value]
    if isinstance(value, dict):
        return {k: _untyped_guessed(v) for k, v in value.items()}
    return value


def typed_expected(expected: Any, actual: Any) -> Any:
    """Untyped expected text read as the kind of the value found (a number, a boolean, a date...)."""
    if isinstance(expected, UntypedText):
        if isinstance(actual, bool):
            return _as_type(expected, "boolean")
        kind = feel.kind_of(actual) if actual is not None else None
        return _as_type(expected, kind if kind in ("number", "string", *_TEMPORAL) else None)
    if isinstance(expected, list):
        items = actual if isinstance(actual, list) else []
        return [typed_expected(e, items[i] if i < len(items) else None) for i, e in enumerate(expected)]
    if isinstance(expected, dict):
        fields = actual if isinstance(actual, dict) else {}
        return {k: typed_expected(v, fields.get(k)) for k, v in expected.items()}
    return expected


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
    expected = {r.name: typed_expected(r.expected, actual.get(r.name)) for r in case.results}
    for result in case.results:
        found = actual.get(result.name)
        if not same_value(expected[result.name], found):
            why = f" ({errors[0]})" if errors else ""
            return CaseOutcome(case.id, "FAILURE", f"FAILURE: {result.name!r} expected="
                                                   f"{show(expected[result.name])!r} but found={show(found)!r}{why}")
    exact = all(same_value(expected[r.name], actual.get(r.name), exact=True) for r in case.results)
    return CaseOutcome(case.id, "SUCCESS", "", exact)


def _typed_case_input(model: DecisionModel, namespace: str, name: str, value: Any) -> Any:
    if not _has_untyped(value):
        return value
    for defs in model.definitions:
        if defs.namespace == namespace:
            for item in defs.inputs.values():
                if item.name == name:
                    return typed_input(model.resolver(defs), value, item.variable.type_ref)
    return _untyped_guessed(value)


def _actual_results(model: DecisionModel, case: Any) -> tuple[dict[str, Any], list[str]]:
    main = model.main
    values = [(i, _typed_case_input(model, i.namespace or main.namespace, i.name, i.value)) for i in case.inputs]
    inputs = {i.name: v for i, v in values if not i.namespace or i.namespace == main.namespace}
    namespaced = {(i.namespace or main.namespace, i.name): v for i, v in values}
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
