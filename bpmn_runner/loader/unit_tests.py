"""SpiffArena script unit tests stored in a diagram (`spiffworkflow:unitTests` on a script task)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..errors import DefinitionError
from .dialects import BPMN_NS, NSMAP
from .documents import Document


@dataclass
class ScriptUnitTest:
    """One unit test: the script, the data it starts with and the data it must leave."""

    file: str
    line: int
    task_id: str
    test_id: str
    script: str
    given: dict[str, Any]
    expected: dict[str, Any]


def _json(element: Any, what: str, doc: Document) -> dict[str, Any]:
    text = (element.text or "").strip() if element is not None else ""
    try:
        value = json.loads(text or "{}")
    except ValueError as exc:
        raise DefinitionError(f"{what} is not JSON: {exc}", file=doc.name,
                              line=element.sourceline if element is not None else 1) from None
    if not isinstance(value, dict):
        raise DefinitionError(f"{what} must be a JSON object", file=doc.name, line=element.sourceline or 1)
    return value


def script_unit_tests(doc: Document) -> list[ScriptUnitTest]:
    out: list[ScriptUnitTest] = []
    if doc.kind != "bpmn":
        return out
    for task in doc.root.iter(f"{{{BPMN_NS}}}scriptTask"):
        script = task.find(f"{{{BPMN_NS}}}script")
        for test in task.xpath("./bpmn:extensionElements/spiffworkflow:unitTests/spiffworkflow:unitTest",
                               namespaces=NSMAP):
            given = test.find(f"{{{NSMAP['spiffworkflow']}}}inputJson")
            expected = test.find(f"{{{NSMAP['spiffworkflow']}}}expectedOutputJson")
            test_id = test.get("id", "")
            out.append(ScriptUnitTest(doc.name, test.sourceline or 1, task.get("id", ""), test_id,
                                      script.text or "" if script is not None else "",
                                      _json(given, f"unit test {test_id!r}: inputJson", doc),
                                      _json(expected, f"unit test {test_id!r}: expectedOutputJson", doc)))
    return out
