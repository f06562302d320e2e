"""The one ISO 8601 parser (bpmn_runner.timing): timers, retry cycles and scenario files read durations alike.

Timer text follows Camunda 7's "Timer Events" reference (docs.camunda.org/manual/latest/reference/bpmn20/events/
timer-events/): timeDate is an ISO 8601 date, timeDuration an ISO 8601 duration, timeCycle an ISO 8601 repeating
interval such as R3/PT10H.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bpmn_runner import run
from bpmn_runner.errors import DefinitionError
from bpmn_runner.timing import (duration_seconds, fixed_duration, is_cycle, is_datetime, is_duration, iso_problem,
                                parse_duration)

from .scenario import registry, write


def test_durations_parse_unit_by_unit():
    duration = parse_duration("P1Y2M3W4DT5H6M7,5S")
    assert (duration.years, duration.months, duration.weeks, duration.days) == (1, 2, 3, 4)
    assert (duration.hours, duration.minutes, duration.seconds) == (5, 6, 7.5)
    assert parse_duration("-P1D").total_seconds() == -86400
    for bad in ("P", "PT", "P1DT", "5 minutes", "PT5X", ""):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_retry_waits_count_months_as_30_days():
    assert duration_seconds("PT1H30M") == 5400 and duration_seconds("P1DT1S") == 86401
    assert duration_seconds("P1M") == 30 * 86400 and duration_seconds("P1Y") == 365 * 86400
    with pytest.raises(ValueError):
        duration_seconds("-PT1M")


def test_scenario_durations_have_fixed_lengths_only():
    assert fixed_duration("PT2H") == timedelta(hours=2)
    assert fixed_duration("90") == timedelta(seconds=90)
    assert fixed_duration("P2W") == timedelta(days=14)
    for bad in ("P1Y", "P1M", "PT", "2 hours", "P"):
        with pytest.raises(ValueError, match="years and months are not fixed lengths"):
            fixed_duration(bad)


def test_what_a_timer_accepts():
    assert is_duration("PT5M") and is_duration("P2W") and not is_duration("P1W2D") and not is_duration("pt5m")
    assert is_datetime("2025-01-31T09:00:00Z") and is_datetime("2025-W05-5") and not is_datetime("PT5M")
    assert is_cycle("R3/PT10M") and is_cycle("R/2025-01-31T09:00:00Z/P1D") and not is_cycle("R/PT1M/PT2M")
    assert iso_problem("timeCycle", "0 0 * * * ?") is None  # Camunda's Quartz cron cycles (bpmn_runner.cron)
    assert "cannot be read" in (iso_problem("timeCycle", "0 99 * * * ?") or "")


# A service task, then a timer catch event.
_TIMER = """<bpmn:startEvent id="S"/>
<bpmn:sequenceFlow id="f1" sourceRef="S" targetRef="T"/>
<bpmn:serviceTask id="T" camunda:type="external" camunda:topic="svc"/>
<bpmn:sequenceFlow id="f2" sourceRef="T" targetRef="W"/>
<bpmn:intermediateCatchEvent id="W">
  <bpmn:timerEventDefinition><bpmn:{kind}>{text}</bpmn:{kind}></bpmn:timerEventDefinition>
</bpmn:intermediateCatchEvent>
<bpmn:sequenceFlow id="f3" sourceRef="W" targetRef="E"/>
<bpmn:endEvent id="E"/>"""


@pytest.mark.parametrize("kind, text, words", [
    ("timeDuration", "P1W2D", "'P1W2D' is not ISO 8601 a duration"),
    ("timeDate", "PT5M", "'PT5M' is not ISO 8601 a date and time"),
    ("timeCycle", "R/PT1M/PT2M", "is not ISO 8601 a cycle"),
    ("timeDuration", "${delay +}", "cannot parse ${delay +}"),
])
def test_a_timer_that_cannot_fire_fails_at_load_before_any_handler_runs(tmp_path: Path, kind, text, words):
    path = write(tmp_path, _TIMER.format(kind=kind, text=text))
    calls = []
    with pytest.raises(DefinitionError, match="timer|time") as caught:
        run([str(path)], handlers=registry(svc=lambda call: calls.append(call) or {}))
    assert calls == []
    assert words in str(caught.value) and caught.value.file and caught.value.line


def test_a_valid_timer_still_runs(tmp_path: Path):
    path = write(tmp_path, _TIMER.format(kind="timeDuration", text="PT0S"))
    assert run([str(path)], handlers=registry(svc=lambda call: {})).status in ("completed", "waiting")
