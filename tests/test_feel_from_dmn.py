"""FEEL behaviour the DMN TCK expects and `bpmn_runner.feel` does not give yet, found while running the TCK through
the DMN engine (bench/dmn_tck.py). Each is an expected failure (strict): when FEEL is fixed the test passes, fails
as XPASS, and the marker should go. The TCK directory and case are named in each id."""

from __future__ import annotations

import pytest

from bpmn_runner import feel

CASES = [
    # (TCK directory / case, FEEL text, expected result as a string)
    ("1117-feel-date-and-time-function 026: nanoseconds",
     'string(date and time("2011-12-31T10:15:30.123456789@Europe/Paris"))',
     "2011-12-31T10:15:30.123456789@Europe/Paris"),
    ("0068-feel-equality time_005: times equal below the millisecond",
     'string(time("10:30:00.0001") = time("10:30:00.0002"))', "true"),
]


@pytest.mark.xfail(strict=True, reason="FEEL does not give this yet (see the module docstring)")
@pytest.mark.parametrize("case, text, expected", CASES, ids=[c[0].split(":")[0] for c in CASES])
def test_feel_gives_what_the_tck_expects(case: str, text: str, expected: str) -> None:
    try:
        value = feel.evaluate(text, {})
    except feel.FeelSyntaxError as exc:
        pytest.fail(f"{case}: {exc}")
    assert value == expected, case
