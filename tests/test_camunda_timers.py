"""Camunda timers: Quartz cron cycles, timer expressions in JUEL and FEEL, and timer start events under `run`."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bpmn_runner import cron
from bpmn_runner.errors import DefinitionError

from .scenario import Scenario, registry, write
from .test_elements import END, START, chain, flow

C7_TIMERS = "docs.camunda.org/manual/latest/reference/bpmn20/events/timer-events"
C8_TIMERS = "docs.camunda.io/docs/components/modeler/bpmn/timer-events"
FRIDAY = datetime(2031, 1, 3, 9, 0, 7, tzinfo=timezone.utc)


def timer(tag: str, text: str, *, attached: str | None = None, event_id: str = "wait") -> str:
    definition = f'<bpmn:timerEventDefinition><bpmn:{tag}>{text}</bpmn:{tag}></bpmn:timerEventDefinition>'
    if attached:
        return (f'<bpmn:boundaryEvent id="{event_id}" attachedToRef="{attached}" cancelActivity="false">'
                f'{definition}</bpmn:boundaryEvent>')
    return f'<bpmn:intermediateCatchEvent id="{event_id}">{definition}</bpmn:intermediateCatchEvent>'


@pytest.mark.parametrize("text, first, second", [
    ("0 0/5 * * * ?", "2031-01-03T09:05:00", "2031-01-03T09:10:00"),       # every five minutes
    ("0/5 0/1 * 1/1 * ?", "2031-01-03T09:00:10", "2031-01-03T09:00:15"),   # every five seconds
    ("0 15 10 ? * MON-FRI", "2031-01-03T10:15:00", "2031-01-06T10:15:00"),
    ("0 15 10 ? * 2-6", "2031-01-03T10:15:00", "2031-01-06T10:15:00"),     # Quartz: 2-6 is Monday to Friday
    ("0 0 12 ? * 1", "2031-01-05T12:00:00", "2031-01-12T12:00:00"),        # Quartz: 1 is Sunday
    ("0 0 12 ? * 7", "2031-01-04T12:00:00", "2031-01-11T12:00:00"),        # Quartz: 7 is Saturday
    ("0 12 * * *", "2031-01-03T12:00:00", "2031-01-04T12:00:00"),          # classic five-field cron (Camunda 8)
])
def test_quartz_cron_cycles_fire_when_camunda_would(text: str, first: str, second: str) -> None:
    """docs.camunda.org/manual/latest/reference/bpmn20/events/timer-events ("Time Cycle": cron expressions in
    Quartz syntax, seconds first) and docs.camunda.io/docs/components/modeler/bpmn/timer-events."""
    one = cron.next_fire(text, FRIDAY)
    two = cron.next_fire(text, one)
    assert one.isoformat()[:19] == first and two.isoformat()[:19] == second


def test_a_cron_boundary_timer_repeats_while_the_task_waits(tmp_path: Path) -> None:
    """docs.camunda.org/manual/latest/reference/bpmn20/events/timer-events: a non-interrupting timer boundary
    event with a cron cycle fires at each time the cron names."""
    body = (START + '<bpmn:userTask id="review"/>' + timer("timeCycle", "0 0/5 * * * ?", attached="review",
                                                           event_id="remind")
            + '<bpmn:serviceTask id="mail" camunda:type="external" camunda:topic="mail"/><bpmn:endEvent id="end"/>'
            '<bpmn:endEvent id="end_r"/>' + chain("start", "review", "end") + chain("remind", "mail", "end_r"))
    now = [FRIDAY]
    sent: list[datetime] = []
    reg = registry()
    reg.register("mail", lambda call: sent.append(now[0]) or None)
    s = Scenario(write(tmp_path, body), reg, timer_wait=0, clock=lambda: now[0])
    waiting = {w.element_id: w.detail for w in s.instance.waiting()}
    assert waiting["remind"].startswith("2031-01-03T09:05:00")
    for minutes in (6, 5, 5):
        now[0] += timedelta(minutes=minutes)
        s.resume()
    assert len(sent) == 3 and s.result.status == "waiting"


def test_an_unreadable_cron_is_refused_at_load(tmp_path: Path) -> None:
    """docs.camunda.org/manual/latest/reference/bpmn20/events/timer-events: a cron cycle must be a valid Quartz
    expression."""
    body = START + timer("timeCycle", "0 0 99 * * ?") + END + chain("start", "wait", "end")
    with pytest.raises(DefinitionError) as err:
        Scenario(write(tmp_path, body))
    assert "diagram.bpmn:" in str(err.value) and "0 0 99 * * ?" in str(err.value)


def test_a_juel_due_date_expression_sets_the_timer(tmp_path: Path) -> None:
    """docs.camunda.org/manual/latest/reference/bpmn20/events/timer-events ("Expressions": ${dueDate} in timeDate,
    resolved from a process variable)."""
    body = START + timer("timeDate", "${dueDate}") + END + chain("start", "wait", "end")
    now = [FRIDAY]
    s = Scenario(write(tmp_path, body), data={"dueDate": "2031-01-03T10:00:00+00:00"}, timer_wait=0,
                 clock=lambda: now[0])
    assert s.result.status == "waiting"
    assert s.instance.waiting()[0].detail.startswith("2031-01-03T10:00:00")
    now[0] = datetime(2031, 1, 3, 10, 0, 1, tzinfo=timezone.utc)
    assert s.resume().status == "completed"


def test_a_juel_duration_expression_sets_the_timer(tmp_path: Path) -> None:
    """docs.camunda.org/manual/latest/reference/bpmn20/events/timer-events ("Expressions": the timer text may be
    an expression such as PT${minutes}M)."""
    body = START + timer("timeDuration", "PT${minutes}M") + END + chain("start", "wait", "end")
    s = Scenario(write(tmp_path, body), data={"minutes": 10}, timer_wait=0, clock=lambda: FRIDAY)
    assert s.instance.waiting()[0].detail.startswith("2031-01-03T09:10:07")


def test_a_feel_duration_expression_sets_the_timer(tmp_path: Path) -> None:
    """docs.camunda.io/docs/components/modeler/bpmn/timer-events ("Timer expressions": = duration("PT" + string(n)
    + "M") is evaluated)."""
    body = (START + '<bpmn:serviceTask id="prep"><bpmn:extensionElements><zeebe:taskDefinition type="prep"/>'
            '</bpmn:extensionElements></bpmn:serviceTask>' + timer("timeDuration", '=duration("PT" + string(n) + "M")')
            + END + chain("start", "prep", "wait", "end"))
    s = Scenario(write(tmp_path, body), registry(prep=lambda call: None), data={"n": 15}, timer_wait=0,
                 clock=lambda: FRIDAY)
    assert s.instance.waiting()[0].detail.startswith("2031-01-03T09:15:07")


def test_run_starts_one_instance_of_a_cron_timer_start_and_says_when_the_next_would_start(tmp_path: Path) -> None:
    """docs.camunda.io/docs/components/modeler/bpmn/timer-events ("Timer start events": when the timer triggers, a
    new process instance is created). `run` in the
    foreground starts one instance now and never loops: it notes when the timer would start the next."""
    body = ('<bpmn:startEvent id="tick"><bpmn:timerEventDefinition><bpmn:timeCycle>0 0/5 * * * ?</bpmn:timeCycle>'
            '</bpmn:timerEventDefinition></bpmn:startEvent><bpmn:serviceTask id="job" camunda:type="external" '
            'camunda:topic="job"/>' + END + chain("tick", "job", "end"))
    ran = []
    s = Scenario(write(tmp_path, body), registry(job=lambda call: ran.append(1) or None), clock=lambda: FRIDAY)
    assert s.result.status == "completed" and ran == [1]
    assert "job" in s.result.path
    assert any("'tick'" in note and "2031-01-03T09:05:00" in note and "worker" in note
               for note in s.result.notes)
