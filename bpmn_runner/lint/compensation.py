"""Compensation rules: each compensation boundary event has one handler, handlers stand outside the flow, and a
throw's activityRef names an activity of its scope (BPMN 2.0 section 10.7.5)."""

from __future__ import annotations

from lxml import etree

from ..loader.documents import Document
from ._core import ACTIVITIES, Context, Rule, describe, event_definitions, local

COMPENSATION_HANDLER = Rule("compensation-handler", "error", "a compensation boundary event has exactly one "
                                                             "associated activity marked isForCompensation")
COMPENSATION_HANDLER_FLOWS = Rule("compensation-handler-flows", "error", "a compensation handler has no incoming "
                                                                         "or outgoing sequence flows")
COMPENSATION_ACTIVITY_REF = Rule("compensation-activity-ref", "error", "a compensation throw event's activityRef "
                                                                       "names an activity in its own scope")
RULES = (COMPENSATION_HANDLER, COMPENSATION_HANDLER_FLOWS, COMPENSATION_ACTIVITY_REF)


def _associated(index_by_id: dict[str, etree._Element], associations: list[etree._Element],
                event_id: str) -> list[etree._Element]:
    out = []
    for association in associations:
        source, target = association.get("sourceRef", ""), association.get("targetRef", "")
        other = target if source == event_id else source if target == event_id else None
        element = index_by_id.get(other or "")
        if element is not None and local(element) in ACTIVITIES:
            out.append(element)
    return out


def check_compensation(ctx: Context, document: Document) -> None:
    index = ctx.index(document)
    associations = list(index.elements("association"))
    for event in index.elements("boundaryEvent"):
        if "compensateEventDefinition" not in event_definitions(event):
            continue
        linked = _associated(index.by_id, associations, event.get("id", ""))
        marked = [a for a in linked if a.get("isForCompensation") == "true"]
        if len(marked) > 1:
            ctx.report(COMPENSATION_HANDLER, document, event,
                       f"{describe(event)} has {len(marked)} associated compensation handlers; keep one")
        elif not marked:
            unmarked = [a for a in linked if a.get("isForCompensation") != "true"]
            hint = (f"mark {describe(unmarked[0])} isForCompensation" if unmarked else
                    f"draw an association from it to an activity marked isForCompensation that undoes "
                    f"{event.get('attachedToRef', 'its activity')!r}")
            ctx.report(COMPENSATION_HANDLER, document, event, f"{describe(event)} has no compensation handler; {hint}")
    for container in index.containers:
        for node in container.nodes:
            if node.get("isForCompensation") == "true" and (container.ins(node) or container.outs(node)):
                ctx.report(COMPENSATION_HANDLER_FLOWS, document, node,
                           f"{describe(node)} is a compensation handler but has sequence flows; it runs only when "
                           f"compensation calls it, so remove its flows and link it to a compensation boundary "
                           f"event with an association")
            for definition in node:
                if local(definition) != "compensateEventDefinition" or not definition.get("activityRef"):
                    continue
                ref = definition.get("activityRef", "")
                target = index.by_id.get(ref)
                scope = container.element
                if scope.get("triggeredByEvent") == "true" and scope.getparent() is not None:
                    scope = scope.getparent()
                if target is None or local(target) not in ACTIVITIES or target.getparent() is not scope:
                    ctx.report(COMPENSATION_ACTIVITY_REF, document, node,
                               f"{describe(node)} compensates activityRef {ref!r}, which is not an activity of "
                               f"its own process or sub-process; compensation never reaches other scopes")


PER_DOCUMENT = (check_compensation,)
