"""Helpers for the durable-instance tests: small diagrams, a clock tests can move, runtimes and workers."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

from bpmn_runner import HandlerRegistry
from bpmn_runner.durable import Runtime, Worker
from bpmn_runner.store import Store, open_store

from .scenario import definitions_xml

START = '<bpmn:startEvent id="start"/>'
END = '<bpmn:endEvent id="end"/>'


def flow(fid: str, src: str, dst: str) -> str:
    return f'<bpmn:sequenceFlow id="{fid}" sourceRef="{src}" targetRef="{dst}"/>'


def chain(*ids: str) -> str:
    return "".join(flow(f"f_{a}_{b}", a, b) for a, b in zip(ids, ids[1:]))


def zeebe_service(tid: str, job_type: str, retries: int | None = None) -> str:
    r = f' retries="{retries}"' if retries is not None else ""
    return (f'<bpmn:serviceTask id="{tid}" name="{tid} task"><bpmn:extensionElements>'
            f'<zeebe:taskDefinition type="{job_type}"{r}/></bpmn:extensionElements></bpmn:serviceTask>')


def camunda_service(tid: str, topic: str, cycle: str | None = None) -> str:
    ext = (f'<bpmn:extensionElements><camunda:failedJobRetryTimeCycle>{cycle}</camunda:failedJobRetryTimeCycle>'
           f'</bpmn:extensionElements>') if cycle else ""
    return f'<bpmn:serviceTask id="{tid}" camunda:type="external" camunda:topic="{topic}">{ext}</bpmn:serviceTask>'


def timer_catch(eid: str, duration: str) -> str:
    return (f'<bpmn:intermediateCatchEvent id="{eid}"><bpmn:timerEventDefinition>'
            f'<bpmn:timeDuration>{duration}</bpmn:timeDuration></bpmn:timerEventDefinition>'
            f'</bpmn:intermediateCatchEvent>')


def write(folder: Path, name: str, body: str, *, process_id: str = "p", extra: str = "") -> Path:
    path = folder / name
    path.write_text(definitions_xml(body, process_id=process_id, extra=extra), encoding="utf-8")
    return path


def three_services(folder: Path, *, retries: int | None = None, name: str = "three.bpmn") -> Path:
    """start -> a -> b -> c -> end, Camunda 8 job types step.a, step.b, step.c."""
    body = (START + zeebe_service("a", "step.a", retries) + zeebe_service("b", "step.b", retries)
            + zeebe_service("c", "step.c", retries) + END + chain("start", "a", "b", "c", "end"))
    return write(folder, name, body, process_id="three")


def user_task_process(folder: Path) -> Path:
    """start -> review (a form: approved boolean, note string) -> record (service) -> end."""
    review = ('<bpmn:userTask id="review" name="Review"><bpmn:extensionElements><camunda:formData>'
              '<camunda:formField id="approved" label="Approved?" type="boolean"/>'
              '<camunda:formField id="note" label="Note" type="string"/>'
              '</camunda:formData></bpmn:extensionElements></bpmn:userTask>')
    body = START + review + camunda_service("record", "record") + END + chain("start", "review", "record", "end")
    return write(folder, "review.bpmn", body, process_id="approval")


class MovableClock:
    """A UTC clock that only moves when a test moves it."""

    def __init__(self, start: datetime | None = None) -> None:
        self.value = start or datetime(2030, 1, 1, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.value

    def advance(self, **delta: float) -> None:
        self.value += timedelta(**delta)


def registry(**handlers: Callable[..., Any]) -> HandlerRegistry:
    """Underscores in keyword names stand for dots: step_a -> step.a."""
    reg = HandlerRegistry()
    for name, func in handlers.items():
        reg.register(name.replace("_", "."), func)
    return reg


def runtime(store: Store | str, handlers: HandlerRegistry | None = None, clock: MovableClock | None = None,
            **options: Any) -> Runtime:
    """A Runtime on the store; these helpers test the job machinery, so each-task commits unless `commit=` says
    otherwise (tests/test_commit_points.py tests wait-state commits)."""
    if isinstance(store, str):
        store = open_store(store)
    options.setdefault("commit", "each-task")
    return Runtime(store, handlers, clock=clock, **options)


def worker(rt: Runtime, worker_id: str = "w1", **options: Any) -> Worker:
    return Worker(rt, worker_id=worker_id, **options)


def completed_counts(store: Store) -> dict[tuple[str, str], int]:
    return {(i, e): n for i, e, n in store.count_history(event="completed")}
