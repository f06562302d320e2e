"""Camunda 7 process-level execution listeners and timeout task listeners.

docs.camunda.org/manual/latest/user-guide/process-engine/delegation-code ("Execution Listener": the start and end
of a process instance are events an execution listener on the process hears; "Task Listener": `timeout` occurs
when the timer associated with the event is due, and needs a timer definition; the task stays open) and the
TaskListener javadoc (EVENTNAME_TIMEOUT)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bpmn_runner.errors import UnsupportedElementError

from .durable import MovableClock, runtime, worker
from .durable import registry as durable_registry
from .durable import write as durable_write
from .scenario import Scenario, registry, write
from .test_elements import END, START, chain

MONDAY = datetime(2031, 1, 6, 9, 0, tzinfo=timezone.utc)
PROCESS_LISTENERS = ('<bpmn:extensionElements>'
                     '<camunda:executionListener event="end" class="audit"/>'
                     '<camunda:executionListener event="start" expression="${audit.started(execution)}"/>'
                     '</bpmn:extensionElements>')
TASK_LISTENER_START = ('<bpmn:serviceTask id="work" camunda:type="external" camunda:topic="work">'
                       '<bpmn:extensionElements><camunda:executionListener event="start" class="audit"/>'
                       '</bpmn:extensionElements></bpmn:serviceTask>')


def recorder(log: list):
    def listener(call):
        log.append((call.event, call.element_id, call.data.get("order")))
        return {f"heard_{call.event}_{call.element_id}": True}
    return listener


def test_process_start_and_end_listeners_run_around_the_whole_instance(tmp_path: Path) -> None:
    """delegation-code page (Execution Listener: process start before the start event, process end after the end
    event); the listeners see the start data and may set variables."""
    log: list = []
    reg = registry(work=lambda call: log.append(("work", call.element_id, None)) or None)
    reg.register("audit", recorder(log))
    reg.register("audit.started", recorder(log))
    path = write(tmp_path, PROCESS_LISTENERS + START + TASK_LISTENER_START + END + chain("start", "work", "end"),
                 process_id="order")
    s = Scenario(path, reg, data={"order": "A-1"})
    assert s.result.status == "completed", s.result.error
    assert log == [("start", "order", "A-1"), ("start", "work", "A-1"), ("work", "work", None),
                   ("end", "order", "A-1")]
    assert s.result.data["heard_start_order"] is True and s.result.data["heard_end_order"] is True


def test_a_called_process_runs_its_own_process_listeners(tmp_path: Path) -> None:
    """delegation-code page: a called process instance starts and ends, so its process listeners run (inside the
    call activity's start and end)."""
    log: list = []
    reg = registry()
    reg.register("audit", recorder(log))
    reg.register("audit.started", recorder(log))
    write(tmp_path, PROCESS_LISTENERS + START + END + chain("start", "end"), name="child.bpmn", process_id="child")
    parent = write(tmp_path, START + '<bpmn:callActivity id="call" calledElement="child"><bpmn:extensionElements>'
                   '<camunda:in variables="all"/></bpmn:extensionElements></bpmn:callActivity>' + END
                   + chain("start", "call", "end"), process_id="parent")
    s = Scenario(parent, reg, data={"order": "B-2"})
    assert s.result.status == "completed", s.result.error
    assert [entry[:2] for entry in log] == [("start", "child"), ("end", "child")]


def test_camunda8_process_execution_listeners_call_their_job_types(tmp_path: Path) -> None:
    """docs.camunda.io/docs/components/concepts/execution-listeners (listeners for the overall process: start
    before the process's start event, end after it ends)."""
    order: list[str] = []
    reg = registry(work=lambda call: order.append("work") or None)
    reg.register("process-started", lambda call: order.append(f"start:{call.element_id}") or None)
    reg.register("process-ended", lambda call: order.append(f"end:{call.element_id}") or None)
    body = ('<bpmn:extensionElements><zeebe:executionListeners>'
            '<zeebe:executionListener eventType="start" type="process-started"/>'
            '<zeebe:executionListener eventType="end" type="process-ended"/></zeebe:executionListeners>'
            '</bpmn:extensionElements>' + START + '<bpmn:serviceTask id="work"><bpmn:extensionElements>'
            '<zeebe:taskDefinition type="work"/></bpmn:extensionElements></bpmn:serviceTask>' + END
            + chain("start", "work", "end"))
    s = Scenario(write(tmp_path, body, process_id="shipping"), reg)
    assert s.result.status == "completed", s.result.error
    assert order == ["start:shipping", "work", "end:shipping"]


def test_a_process_listener_on_take_is_refused(tmp_path: Path) -> None:
    """delegation-code page: a process has start and end events only."""
    body = ('<bpmn:extensionElements><camunda:executionListener event="take" class="audit"/>'
            '</bpmn:extensionElements>' + START + END + chain("start", "end"))
    with pytest.raises(UnsupportedElementError) as err:
        Scenario(write(tmp_path, body))
    assert "process 'p'" in str(err.value) and "'take'" in str(err.value)


def timeout_task(timer: str, tag: str = "timeDuration", listener: str = 'class="remind"') -> str:
    return (f'<bpmn:userTask id="approve" camunda:assignee="demo"><bpmn:extensionElements>'
            f'<camunda:taskListener event="timeout" id="reminder" {listener}><bpmn:timerEventDefinition>'
            f'<bpmn:{tag}>{timer}</bpmn:{tag}></bpmn:timerEventDefinition></camunda:taskListener>'
            f'</bpmn:extensionElements></bpmn:userTask>')


def test_a_timeout_listener_runs_when_its_timer_is_due_and_the_task_stays_open(tmp_path: Path) -> None:
    """delegation-code page (Task Listener, timeout): the listener runs when its timer is due while the task
    waits; the task is not completed or cancelled by it."""
    now = [MONDAY]
    heard: list = []
    reg = registry(remind=lambda call: heard.append((call.event, call.scope, call.task.get("assignee"))) or
                   {"reminded": True})
    s = Scenario(write(tmp_path, START + timeout_task("PT1H") + END + chain("start", "approve", "end")), reg,
                 timer_wait=0, clock=lambda: now[0])
    assert s.result.status == "waiting" and heard == []
    now[0] += timedelta(minutes=59)
    s.resume()
    assert heard == []
    now[0] += timedelta(minutes=2)
    s.resume()
    assert heard == [("timeout", "task", "demo")]
    assert [w.element_id for w in s.instance.waiting()] == ["approve"]
    now[0] += timedelta(hours=5)
    s.resume()
    assert len(heard) == 1  # a duration fires once
    s.complete("approve", {})
    assert s.result.status == "completed" and s.result.data["reminded"] is True


def test_a_cycle_timeout_listener_repeats_while_the_task_waits(tmp_path: Path) -> None:
    """delegation-code page (Task Listener, timeout with a timeCycle: the event fires at each repetition)."""
    now = [MONDAY]
    heard: list = []
    reg = registry(remind=lambda call: heard.append(now[0]) or None)
    s = Scenario(write(tmp_path, START + timeout_task("R2/PT1H", "timeCycle") + END
                       + chain("start", "approve", "end")), reg, timer_wait=0, clock=lambda: now[0])
    for _ in range(4):
        now[0] += timedelta(hours=1, seconds=1)
        s.resume()
    assert len(heard) == 2 and s.result.status == "waiting"


def test_a_timeout_listener_in_the_store_is_a_timer_job_a_worker_fires(store, tmp_path: Path) -> None:
    """delegation-code page: the timeout is a timer job of the waiting task; it survives the process being
    stored and a worker runs it when due."""
    clock = MovableClock()
    heard: list = []
    body = START + timeout_task("PT2H") + END + chain("start", "approve", "end")
    rt = runtime(store, durable_registry(remind=lambda call: heard.append(call.event) or {"reminded": 1}), clock)
    iid = rt.start([durable_write(tmp_path, "timeout.bpmn", body)])["instance_id"]
    assert [j["kind"] for j in rt.show(iid)["jobs"]] == ["timer"]
    clock.advance(hours=2, seconds=1)
    worker(rt).run_once()
    shown = rt.show(iid)
    assert heard == ["timeout"] and shown["data"]["reminded"] == 1 and shown["jobs"] == []
    assert [t["element_id"] for t in rt.list_tasks()] == ["approve"]


def test_a_timeout_listener_without_a_timer_is_refused(tmp_path: Path) -> None:
    """delegation-code page: a timeout task listener requires a timer definition."""
    task = ('<bpmn:userTask id="approve"><bpmn:extensionElements><camunda:taskListener event="timeout" '
            'class="remind"/></bpmn:extensionElements></bpmn:userTask>')
    with pytest.raises(UnsupportedElementError) as err:
        Scenario(write(tmp_path, START + task + END + chain("start", "approve", "end")))
    assert "timerEventDefinition" in str(err.value) and "'approve'" in str(err.value)
