"""Diagram pieces for the compensation scenario tests, in the three dialects a service task can be written in."""

from __future__ import annotations

from typing import Any, Callable

from bpmn_runner import HandlerRegistry, ServiceCall

DIALECTS = ("camunda7", "camunda8", "bpmn")


def binding(dialect: str, topic: str) -> tuple[str, str]:
    """(attributes, extension elements) binding a service task to `topic` in a dialect."""
    if dialect == "camunda7":
        return f' camunda:type="external" camunda:topic="{topic}"', ""
    if dialect == "camunda8":
        return "", (f'<bpmn:extensionElements><zeebe:taskDefinition type="{topic}"/></bpmn:extensionElements>')
    return f' implementation="{topic}"', ""


def service(dialect: str, tid: str, topic: str, *, handler: bool = False, inner: str = "") -> str:
    attrs, ext = binding(dialect, topic)
    marker = ' isForCompensation="true"' if handler else ""
    return f'<bpmn:serviceTask id="{tid}" name="{tid}"{attrs}{marker}>{ext}{inner}</bpmn:serviceTask>'


def boundary(activity: str, handler: str) -> str:
    """A compensation boundary event on `activity`, associated with `handler`."""
    bid = f"comp_{activity}"
    return (f'<bpmn:boundaryEvent id="{bid}" attachedToRef="{activity}"><bpmn:compensateEventDefinition/>'
            f'</bpmn:boundaryEvent><bpmn:association id="assoc_{activity}" associationDirection="One" '
            f'sourceRef="{bid}" targetRef="{handler}"/>')


def compensable(dialect: str, tid: str, undo_topic: str | None = None, inner: str = "") -> str:
    """A service task `tid` (topic `do.<tid>`) with its compensation handler `undo_<tid>` (topic `undo.<tid>`)."""
    return (service(dialect, tid, f"do.{tid}", inner=inner)
            + service(dialect, f"undo_{tid}", undo_topic or f"undo.{tid}", handler=True) + boundary(tid, f"undo_{tid}"))


def throw(tid: str, activity: str | None = None, *, end: bool = False, wait: bool | None = None) -> str:
    tag = "endEvent" if end else "intermediateThrowEvent"
    attrs = (f' activityRef="{activity}"' if activity else "") + \
        ("" if wait is None else f' waitForCompletion="{str(wait).lower()}"')
    return f'<bpmn:{tag} id="{tid}"><bpmn:compensateEventDefinition{attrs}/></bpmn:{tag}>'


class Calls:
    """Handlers that record the order they were called in, with the data each saw."""

    def __init__(self) -> None:
        self.order: list[str] = []
        self.seen: dict[str, list[dict[str, Any]]] = {}

    def handler(self, name: str, result: Callable[[ServiceCall], Any] | None = None) -> Callable[[ServiceCall], Any]:
        def run(call: ServiceCall) -> Any:
            self.order.append(name)
            self.seen.setdefault(name, []).append(dict(call.data))
            return result(call) if result is not None else {}
        return run

    def registry(self, *names: str, **results: Callable[[ServiceCall], Any]) -> HandlerRegistry:
        reg = HandlerRegistry()
        for name in names:
            reg.register(name, self.handler(name, results.get(name.replace(".", "_"))))
        return reg
