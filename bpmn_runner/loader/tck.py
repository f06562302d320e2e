"""Read DMN TCK test files (`*-test-*.xml`): test cases with typed input values and expected results."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from lxml import etree

from .. import feel
from ..dmn.tck import UntypedText
from .xml import parse_file

XSI = "{http://www.w3.org/2001/XMLSchema-instance}"
_TEMPORAL = {"date": "date", "dateTime": "date and time", "time": "time", "duration": "duration"}
_NUMBERS = {"decimal", "double", "float", "integer", "int", "long", "short", "byte", "nonNegativeInteger",
            "positiveInteger", "negativeInteger", "nonPositiveInteger", "unsignedInt", "unsignedLong"}


@dataclass
class TckInput:
    name: str
    namespace: str | None
    value: Any


@dataclass
class TckResult:
    name: str
    expected: Any
    error_result: bool = False


@dataclass
class TckCase:
    id: str
    description: str
    invocable: str | None
    kind: str                       # decision | decisionService | bkm
    inputs: list[TckInput] = field(default_factory=list)
    results: list[TckResult] = field(default_factory=list)


@dataclass
class TckFile:
    path: Path
    model_name: str
    cases: list[TckCase]


def _local(element: Any) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _children(element: Any, name: str) -> list[Any]:
    return [c for c in element if _local(c) == name]


def _child(element: Any, name: str) -> Any:
    found = _children(element, name)
    return found[0] if found else None


def typed_value(element: Any) -> Any:
    """A `<value xsi:type="xsd:...">` as a FEEL value (None for xsi:nil)."""
    if (element.get(f"{XSI}nil") or "").strip() == "true":
        return None
    if _children(element, "component"):
        return {c.get("name") or "": read_value(c) for c in _children(element, "component")}
    nested = _child(element, "list")
    if nested is not None:
        return [read_value(item) for item in _children(nested, "item")]
    text = element.text or ""
    kind = (element.get(f"{XSI}type") or "").rpartition(":")[2]
    if kind in _NUMBERS:
        try:
            return Decimal(text.strip())
        except InvalidOperation:
            return None
    if kind == "boolean":
        return text.strip() == "true"
    if kind in _TEMPORAL:
        return feel.evaluate(f'{_TEMPORAL[kind]}(x)', {"x": text.strip()})
    return text if kind else UntypedText(text)


def read_value(node: Any) -> Any:
    """The value held by an inputNode, expected, component or item: a value, a list or components."""
    value = _child(node, "value")
    if value is not None:
        return typed_value(value)
    nested = _child(node, "list")
    if nested is not None:
        if (nested.get(f"{XSI}nil") or "").strip() == "true":
            return None
        return [read_value(item) for item in _children(nested, "item")]
    components = _children(node, "component")
    if components:
        return {c.get("name") or "": read_value(c) for c in components}
    return None


def read_tck_file(path: str | Path) -> TckFile:
    root = parse_file(path).getroot()
    model = _child(root, "modelName")
    cases = []
    for number, case in enumerate(_children(root, "testCase"), start=1):
        description = _child(case, "description")
        tck_case = TckCase(case.get("id") or str(number), (description.text or "").strip() if description is not None
                           else "", case.get("invocableName"), case.get("type") or "decision")
        for node in _children(case, "inputNode"):
            tck_case.inputs.append(TckInput(node.get("name") or "", node.get("namespace"), read_value(node)))
        for node in _children(case, "resultNode"):
            expected = _child(node, "expected")
            tck_case.results.append(TckResult(node.get("name") or "",
                                              read_value(expected) if expected is not None else None,
                                              (node.get("errorResult") or "").strip() == "true"))
        cases.append(tck_case)
    return TckFile(Path(path), (model.text or "").strip() if model is not None else "", cases)
