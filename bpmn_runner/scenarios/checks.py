"""What a scenario expects against what happened: each difference as one sentence."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..coverage import Trace, sequence
from .model import Expect

if TYPE_CHECKING:  # pragma: no cover
    from .runner import ScenarioResult


def check(expect: Expect, outcome: "ScenarioResult", taken: Trace) -> list[str]:
    """Each way the outcome differs from what the scenario expects, as one sentence."""
    problems: list[str] = []
    wanted = expect.status or ("waiting" if expect.waits_at else "completed")
    if outcome.status != wanted:
        detail = f" ({outcome.error})" if outcome.error and wanted != "failed" else ""
        problems.append(f"expected status {wanted}, got {outcome.status}{detail}")
    if expect.path is not None:
        problem = subsequence_problem(expect.path, taken.path)
        if problem:
            problems.append(problem)
    if expect.exact_path is not None and expect.exact_path != taken.path:
        problems.append(f"expected exactly the path {sequence(expect.exact_path)}")
    for element in expect.not_passed:
        if element in taken.nodes:
            problems.append(f"passed {element}, which it should not")
    if expect.end is not None and expect.end not in outcome.ends:
        ended = ", ".join(outcome.ends) if outcome.ends else "no end event"
        problems.append(f"expected to end at {expect.end}, ended at {ended}")
    for element in expect.waits_at:
        if element not in outcome.waiting:
            problems.append(f"expected to wait at {element}; waits at {', '.join(outcome.waiting) or 'nothing'}")
    if expect.data is not None:
        problems.extend(data_problems(expect.data, outcome.data))
    for name, count in expect.calls.items():
        got = outcome.calls.get(name, 0)
        if got != count:
            problems.append(f"expected handler {name} to be called {_times(count)}, it was called {_times(got)}")
    if expect.error is not None and expect.error not in (outcome.error or ""):
        problems.append(f"expected an error containing {expect.error!r}, got {outcome.error or 'no error'}")
    return problems


def _times(n: int) -> str:
    return {0: "never", 1: "once", 2: "twice"}.get(n, f"{n} times")


def subsequence_problem(expected: list[str], path: list[str]) -> str | None:
    """None when `expected` appears in `path` in that order (others may come between), else why not."""
    position = 0
    previous = None
    for element in expected:
        try:
            position = path.index(element, position) + 1
        except ValueError:
            if element in path:
                return f"expected to pass {element} after {previous}, but it came before it"
            return f"expected to pass {element}" + (f" after {previous}" if previous else "") + ", but it never did"
        previous = element
    return None


_MISSING = object()


def data_problems(expected: Any, actual: Any, where: str = "data") -> list[str]:
    """Subset match: every expected key with an equal value; nested mappings compared the same way."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{where}: expected a mapping, got {json.dumps(actual, default=str)}"]
        out: list[str] = []
        for key, value in expected.items():
            got = actual.get(key, _MISSING)
            if got is _MISSING:
                out.append(f"{where}.{key}: expected {json.dumps(value, default=str)}, but it is not set")
            else:
                out.extend(data_problems(value, got, f"{where}.{key}"))
        return out
    if _equal(expected, actual):
        return []
    return [f"{where}: expected {json.dumps(expected, default=str)}, got {json.dumps(actual, default=str)}"]


def _equal(expected: Any, actual: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual if isinstance(expected, bool) and isinstance(actual, bool) else False
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return abs(float(expected) - float(actual)) <= 1e-9 * max(1.0, abs(float(expected)))
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(_equal(e, a) if not isinstance(e, dict) else
                                                     not data_problems(e, a) for e, a in zip(expected, actual))
    return bool(expected == actual)
