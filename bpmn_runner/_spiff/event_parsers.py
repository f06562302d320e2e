"""Event parsers: start, end, catch and throw events (timers, links, compensation, cancel) as BPMN and the
modelers write them, over SpiffWorkflow's own."""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.parser.TaskParser import TaskParser
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.parser.event_parsers import (CANCEL_EVENT_XPATH, ERROR_EVENT_XPATH, ESCALATION_EVENT_XPATH,
                                                     MESSAGE_EVENT_XPATH, SIGNAL_EVENT_XPATH, TERMINATION_EVENT_XPATH,
                                                     TIMER_EVENT_XPATH, CONDITIONAL_EVENT_XPATH)
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition, DurationTimerEventDefinition, TimeDateEventDefinition,
)

from .. import cron
from ..errors import ExpressionError
from ..namespaces import NSMAP as DIALECT_NSMAP
from ..timing import iso_problem, looks_iso
from . import compensation_parse
from .compensation_specs import CancelEndEvent, CompensationEndEvent, IntermediateCompensationThrowEvent
from .specs import InterruptingStartEvent

LINK_XPATH = "./bpmn:linkEventDefinition"


def normalize_timer_expression(text: str | None, kind: str = "timeCycle") -> str:
    """Timer text as modelers write it (`PT5M`, `R3/PT10M`, an ISO date, a Quartz cron cycle) becomes an expression
    SpiffWorkflow evaluates; ISO text that is wrong for its kind (`P1W2D`, a date as a duration) is refused here,
    at load."""
    value = (text or "").strip()
    if not value:
        raise ValueError("the timer has no time expression")
    if looks_iso(value):
        problem = iso_problem(kind, value)
        if problem:
            raise ValueError(f"{kind} {problem}")
        return repr(value)
    if cron.is_cron(value):
        if kind != "timeCycle":
            raise ValueError(f"a cron expression ({value!r}) belongs in a timeCycle, not a {kind}")
        try:
            cron.check_cron(value)
        except ExpressionError as exc:
            raise ValueError(exc.message) from None
        return repr(value)
    return value


class TimerTextMixin:
    """Replace the timer parse so bare ISO 8601 text works (SpiffWorkflow evaluates it as Python)."""

    def parse_timer_event(self, event: Any) -> Any:
        description = self.get_event_description(event)
        name = self.node.get("name", self.node.get("id"))
        for tag, cls in (("timeDate", TimeDateEventDefinition), ("timeDuration", DurationTimerEventDefinition),
                         ("timeCycle", CycleTimerEventDefinition)):
            nodes = event.xpath(f"./bpmn:{tag}", namespaces=DIALECT_NSMAP)
            if nodes:
                try:
                    expression = normalize_timer_expression(nodes[0].text, tag)
                except ValueError as exc:
                    raise ValidationException(str(exc), node=self.node, file_name=self.filename)
                return cls(name, expression, description=description)
        raise ValidationException("the timer event has no timeDate, timeDuration or timeCycle",
                                  node=self.node, file_name=self.filename)


def _links(parser: TaskParser) -> list[Any]:
    return parser.xpath(LINK_XPATH)


def _check_supported_events(parser: TaskParser) -> None:
    if parser.xpath("./bpmn:compensateEventDefinition"):
        raise ValidationException("a compensation event belongs on an activity's boundary, in a throw or end event, "
                                  "or as the start of an event sub-process; not here",
                                  node=parser.node, file_name=parser.filename)


def _is_compensation_throw(parser: TaskParser) -> bool:
    return bool(parser.xpath("./bpmn:compensateEventDefinition"))


def make_end_event_parser(base: type) -> type:
    class RunnerEndEventParser(TimerTextMixin, base):
        """End events, including signal end events (SpiffWorkflow drops their signal)."""

        def create_task(self) -> Any:
            if _is_compensation_throw(self):
                task = compensation_parse.create_throw(self, CompensationEndEvent)
                task.connect(self.spec.end)
                return task
            if self.xpath(CANCEL_EVENT_XPATH):
                self.spec_class = CancelEndEvent  # compensates the transaction before it throws the cancel
            event_definition = self.get_event_definition(
                [MESSAGE_EVENT_XPATH, CANCEL_EVENT_XPATH, ERROR_EVENT_XPATH, ESCALATION_EVENT_XPATH,
                 TERMINATION_EVENT_XPATH, SIGNAL_EVENT_XPATH])
            task = self._create_task(event_definition)
            task.connect(self.spec.end)
            return task
    return RunnerEndEventParser


def make_start_event_parser(base: type) -> type:
    class RunnerStartEventParser(TimerTextMixin, base):
        """Start events, including error and escalation starts of event subprocesses (SpiffWorkflow reads those
        as plain start events, so the event subprocess would run at once)."""

        def create_task(self) -> Any:
            if not compensation_parse.is_compensation_start(self.node):
                _check_supported_events(self)
            event_definition = self.get_event_definition(
                [MESSAGE_EVENT_XPATH, SIGNAL_EVENT_XPATH, TIMER_EVENT_XPATH, CONDITIONAL_EVENT_XPATH,
                 ERROR_EVENT_XPATH, ESCALATION_EVENT_XPATH])
            parent = self.node.getparent()
            if parent is not None and parent.get("triggeredByEvent") == "true" and \
                    self.node.get("isInterrupting", "true") == "true":
                self.spec_class = InterruptingStartEvent
            task = self._create_task(event_definition)
            self.spec.start.connect(task)
            return task
    return RunnerStartEventParser


def make_catch_parser(base: type, pass_through: type) -> type:
    class RunnerIntermediateCatchEventParser(TimerTextMixin, base):
        """Intermediate catch events; a link catch becomes a pass-through its link throws connect to."""

        def create_task(self) -> Any:
            _check_supported_events(self)
            if _links(self):
                return pass_through(self.spec, self.bpmn_id, **self.bpmn_attributes)
            return super().create_task()
    return RunnerIntermediateCatchEventParser


def make_throw_parser(base: type, pass_through: type) -> type:
    class RunnerIntermediateThrowEventParser(TimerTextMixin, base):
        """Intermediate throw events; a link throw jumps to the link catch of the same name in its scope."""

        def create_task(self) -> Any:
            if _is_compensation_throw(self):
                return compensation_parse.create_throw(self, IntermediateCompensationThrowEvent)
            if _links(self):
                return pass_through(self.spec, self.bpmn_id, **self.bpmn_attributes)
            return super().create_task()

        def parse_node(self) -> Any:
            spec = super().parse_node()
            links = _links(self)
            if links:
                catch = find_link_catch(self.node, links[0])
                if catch is None:
                    raise ValidationException(
                        f"link throw event has no link catch event named {link_name(links[0])!r} in the same scope",
                        node=self.node, file_name=self.filename)
                spec.connect(self.process_parser.parse_node(catch))
            return spec
    return RunnerIntermediateThrowEventParser


def link_name(link: Any) -> str:
    return link.get("name") or link.getparent().get("name") or ""


def find_link_catch(throw_node: Any, link: Any) -> Any:
    """The intermediate catch event in the throw's scope whose link definition has the same name."""
    name = link_name(link)
    for catch in throw_node.getparent().xpath("./bpmn:intermediateCatchEvent[bpmn:linkEventDefinition]",
                                              namespaces=DIALECT_NSMAP):
        if link_name(catch.xpath(LINK_XPATH, namespaces=DIALECT_NSMAP)[0]) == name:
            return catch
    return None
