"""Run SpiffArena's script unit tests (`spiffworkflow:unitTests`): each script starts from its inputJson and must
leave exactly its expectedOutputJson, as SpiffArena's "Run unit tests" checks it."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Iterable

from . import expressions
from .errors import ExpressionError
from .loader.documents import expand_paths, read_document
from .loader.unit_tests import ScriptUnitTest, script_unit_tests
from .scenarios import ScenarioResult


def find_script_unit_tests(paths: Iterable[str | Path]) -> list[ScriptUnitTest]:
    """The unit tests in the .bpmn files given, or in the folders given (recursively)."""
    found: list[ScriptUnitTest] = []
    for path in expand_paths([p for p in paths if Path(p).is_dir() or Path(p).suffix.lower() == ".bpmn"]):
        if path.suffix.lower() == ".bpmn":
            found.extend(script_unit_tests(read_document(path)))
    return found


def run_script_unit_test(test: ScriptUnitTest, *, trusted: bool = False) -> ScenarioResult:
    started = time.perf_counter()
    data = json.loads(json.dumps(test.given))
    result = ScenarioResult(test.file, f"{test.task_id} unit test {test.test_id}", test.line, True, [])
    try:
        expressions.execute_script(test.script, data, trusted=trusted)
    except ExpressionError as exc:
        result.passed, result.error, result.status = False, exc.message, "failed"
        result.problems.append(f"the script failed: {exc.message}")
    else:
        result.status = "completed"
        if data != test.expected:
            result.passed = False
            result.problems.append(f"expected {json.dumps(test.expected, sort_keys=True)}, "
                                   f"got {json.dumps(data, sort_keys=True, default=str)}")
    result.data = data
    result.seconds = time.perf_counter() - started
    return result
