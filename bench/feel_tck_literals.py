"""Measure the FEEL package alone on the DMN TCK: evaluate the literal-expression decisions of TCK models.

Usage: python bench/feel_tck_literals.py [-v] DIR...   (e.g. ../shared/dmn-tck/TestCases/compliance-level-3/0050-*)
Only decisions whose logic is a literal expression (and inputs given as values) are evaluated; the official TCK
runner is bench/dmn_tck.py. Prints one line per directory and a total.
"""

from __future__ import annotations

import datetime as dt
import sys
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path
from typing import Any

from bpmn_runner.feel import FeelSyntaxError, compile_expression
from bpmn_runner.feel.semantics import equal
from bpmn_runner.feel.temporal import parse_date, parse_date_time, parse_duration, parse_time

XSI = "{http://www.w3.org/2001/XMLSchema-instance}"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: ET.Element, name: str) -> ET.Element | None:
    for child in element:
        if _local(child.tag) == name:
            return child
    return None


def read_value(element: ET.Element) -> Any:
    value = _child(element, "value")
    if value is not None:
        if value.get(XSI + "nil") == "true":
            return None
        text = value.text or ""
        kind = (value.get(XSI + "type") or "xsd:string").split(":")[-1]
        return {"decimal": Decimal, "double": Decimal, "integer": Decimal, "int": Decimal, "long": Decimal,
                "boolean": lambda t: t.strip() == "true", "date": parse_date, "dateTime": parse_date_time,
                "time": parse_time, "duration": parse_duration}.get(kind, str)(text.strip() if kind != "string" else text)
    listed = _child(element, "list")
    if listed is not None:
        return [read_value(item) for item in listed if _local(item.tag) == "item"]
    components = [c for c in element if _local(c.tag) == "component"]
    if components:
        return {c.get("name"): read_value(c) for c in components}
    if element.get(XSI + "nil") == "true":
        return None
    return None


def same(actual: Any, expected: Any) -> bool:
    if isinstance(expected, list):
        return isinstance(actual, list) and len(actual) == len(expected) and all(
            same(a, e) for a, e in zip(actual, expected))
    if isinstance(expected, dict):
        return isinstance(actual, dict) and set(actual) == set(expected) and all(
            same(actual[k], v) for k, v in expected.items())
    if isinstance(expected, Decimal) and isinstance(actual, Decimal):
        return actual == expected or abs(actual - expected) < Decimal("1e-30")
    return equal(actual, expected) is True and type(actual) is type(expected) or (actual is None and expected is None)


def run_directory(directory: Path, verbose: bool) -> tuple[int, int]:
    models = list(directory.glob("*.dmn"))
    decisions: dict[str, str] = {}
    for model in models:
        root = ET.parse(model).getroot()
        for decision in root:
            if _local(decision.tag) == "decision":
                literal = _child(decision, "literalExpression")
                if literal is not None and _child(literal, "text") is not None:
                    decisions[decision.get("name", "")] = _child(literal, "text").text or ""
    passed = total = 0
    for test_file in sorted(directory.glob("*-test-*.xml")):
        root = ET.parse(test_file).getroot()
        for case in root:
            if _local(case.tag) != "testCase":
                continue
            inputs = {n.get("name"): read_value(n) for n in case if _local(n.tag) == "inputNode"}
            for result in case:
                if _local(result.tag) != "resultNode" or result.get("name") not in decisions:
                    continue
                total += 1
                expected_node = _child(result, "expected")
                expected = read_value(expected_node) if expected_node is not None else None
                text = decisions[result.get("name")]
                try:
                    context: dict[str, Any] = dict(inputs)
                    names = set(decisions) | set(inputs)

                    def missing(name: str) -> Any:
                        if name in decisions and name not in context:
                            context[name] = None
                            context[name] = compile_expression(decisions[name], names).evaluate(
                                context, on_missing=missing)
                            return context[name]
                        return None
                    actual = compile_expression(text, names).evaluate(context, on_missing=missing)
                    ok = same(actual, expected)
                except FeelSyntaxError as error:
                    actual, ok = f"SYNTAX {error}", False
                except Exception as error:  # noqa: BLE001
                    actual, ok = f"ERROR {type(error).__name__}: {error}", expected is None
                passed += ok
                if verbose and not ok:
                    print(f"  FAIL {directory.name} {case.get('id')} {result.get('name')}: {text.strip()[:100]!r}"
                          f" -> {actual!r} expected {expected!r}")
    return passed, total


def main(argv: list[str]) -> None:
    verbose = "-v" in argv
    all_passed = all_total = 0
    for arg in [a for a in argv if a != "-v"]:
        passed, total = run_directory(Path(arg), verbose)
        if total:
            print(f"{Path(arg).name}: {passed}/{total}")
        all_passed += passed
        all_total += total
    print(f"FEEL literal decisions: {all_passed}/{all_total}")


if __name__ == "__main__":
    main(sys.argv[1:])
