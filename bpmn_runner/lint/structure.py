"""Flow rules per process and sub-process: starts, ends, reachability, splits, joins and gateways (bpmnlint's names)."""

from __future__ import annotations

from collections import deque
from typing import Iterable

from lxml import etree

from ..loader.documents import Document
from ._core import EVENTS, GATEWAYS, TASKS, Container, Context, Rule, children, describe, event_definitions, local

START_EVENT_REQUIRED = Rule("start-event-required", "warning", "every process and sub-process has a start event "
                                                                "(without one, every element without an incoming "
                                                                "flow starts it: BPMN's implicit start)")
NOTHING_STARTS = Rule("nothing-starts", "error", "a process or sub-process without a start event has an element "
                                                 "without an incoming flow to start from")
END_EVENT_REQUIRED = Rule("end-event-required", "warning", "every process and sub-process has an end event")
NO_DISCONNECTED = Rule("no-disconnected", "warning", "every flow node has an incoming or an outgoing sequence flow")
NO_IMPLICIT_START = Rule("no-implicit-start", "warning", "only start, boundary and link catch events lack an "
                                                         "incoming flow (anything else never runs, or with no start "
                                                         "event starts implicitly)")
NO_IMPLICIT_END = Rule("no-implicit-end", "warning", "a path ends at an end event, not at an element with no "
                                                     "outgoing flow (an implicit end)")
UNREACHABLE = Rule("unreachable", "warning", "every flow node can be reached from a start event")
ENDLESS_LOOP = Rule("endless-loop", "warning", "every loop has a way out to an end")
NO_IMPLICIT_SPLIT = Rule("no-implicit-split", "warning", "a task or event forks through a gateway, not through "
                                                         "several unconditional flows")
CONDITIONAL_FLOWS = Rule("conditional-flows", "error", "the flows out of an exclusive or inclusive fork (or out of "
                                                       "anything with a conditional flow) have a condition or are "
                                                       "the default")
FAKE_JOIN = Rule("fake-join", "warning", "a task or event has at most one incoming flow; join with a gateway")
NO_GATEWAY_JOIN_FORK = Rule("no-gateway-join-fork", "warning", "a gateway either joins or forks, not both")
SUPERFLUOUS_GATEWAY = Rule("superfluous-gateway", "warning", "a gateway with one incoming and one outgoing flow "
                                                             "does nothing")
NO_DUPLICATE_SEQUENCE_FLOWS = Rule("no-duplicate-sequence-flows", "warning", "no two flows connect the same "
                                                                             "elements with the same condition")
LABEL_REQUIRED = Rule("label-required", "warning", "tasks, events and forking gateways have a name")
SINGLE_BLANK_START_EVENT = Rule("single-blank-start-event", "error", "a process or sub-process has at most one "
                                                                     "start event without a trigger")
SINGLE_EVENT_DEFINITION = Rule("single-event-definition", "warning", "an event has at most one event definition")
SUB_PROCESS_BLANK_START_EVENT = Rule("sub-process-blank-start-event", "error", "an embedded sub-process starts "
                                                                               "with a blank start event")
EVENT_SUB_PROCESS_TYPED_START_EVENT = Rule("event-sub-process-typed-start-event", "error",
                                           "an event sub-process starts with a typed (message, timer, error...) "
                                           "start event")
NO_COMPLEX_GATEWAY = Rule("no-complex-gateway", "error", "no complex gateways (bpmn-runner cannot run them)")
NO_INCLUSIVE_GATEWAY = Rule("no-inclusive-gateway", "info", "inclusive gateways are hard to read; prefer "
                                                            "exclusive and parallel ones")
RULES = (START_EVENT_REQUIRED, NOTHING_STARTS, END_EVENT_REQUIRED, NO_DISCONNECTED, NO_IMPLICIT_START, NO_IMPLICIT_END,
         UNREACHABLE, ENDLESS_LOOP, NO_IMPLICIT_SPLIT, CONDITIONAL_FLOWS, FAKE_JOIN, NO_GATEWAY_JOIN_FORK,
         SUPERFLUOUS_GATEWAY, NO_DUPLICATE_SEQUENCE_FLOWS, LABEL_REQUIRED, SINGLE_BLANK_START_EVENT, SINGLE_EVENT_DEFINITION,
         SUB_PROCESS_BLANK_START_EVENT, EVENT_SUB_PROCESS_TYPED_START_EVENT, NO_COMPLEX_GATEWAY, NO_INCLUSIVE_GATEWAY)


def _is_link(node: etree._Element) -> bool:
    return "linkEventDefinition" in event_definitions(node)


def _is_compensation(node: etree._Element) -> bool:
    """A compensation handler or the boundary event that links to it (drawn with an association, not a flow)."""
    return node.get("isForCompensation") == "true" or \
        local(node) == "boundaryEvent" and "compensateEventDefinition" in event_definitions(node)


def _is_event_sub_process(node: etree._Element) -> bool:
    return local(node) == "subProcess" and node.get("triggeredByEvent") == "true"


def _has_condition(flow: etree._Element) -> bool:
    """An empty conditionExpression (some tools write one) is no condition at all."""
    return any("".join(c.itertext()).strip() for c in children(flow, "conditionExpression"))


def _exempt(container: Container, node: etree._Element) -> bool:
    """Elements that legitimately stand outside the sequence-flow graph."""
    return _is_event_sub_process(node) or _is_compensation(node) or container.kind == "adHocSubProcess"


def check_containers(ctx: Context, document: Document) -> None:
    index = ctx.index(document)
    for container in index.containers:
        if not container.nodes:
            # An empty executable process or sub-process cannot start; an empty pool in an export is documentation.
            if container.kind != "adHocSubProcess" and index.is_executable(container.element):
                _starts_and_ends(ctx, document, container)
            continue
        _starts_and_ends(ctx, document, container)
        _connections(ctx, document, container)
        _reachability(ctx, document, container)
        _splits_and_joins(ctx, document, container)
        _duplicate_flows(ctx, document, container)


def _starts_and_ends(ctx: Context, document: Document, container: Container) -> None:
    if container.kind == "adHocSubProcess":
        return
    starts = [n for n in container.nodes if local(n) == "startEvent"]
    what = describe(container.element)
    if not starts:
        ctx.report(START_EVENT_REQUIRED, document, container.element,
                   f"{what} has no start event, so every element without an incoming flow starts it (an implicit "
                   f"start); draw a start event where the flow begins")
        entries = [n for n in container.nodes if not container.ins(n) and local(n) != "boundaryEvent"
                   and not _is_link(n) and not _exempt(container, n)]
        if container.nodes and not entries and any(not _exempt(container, n) for n in container.nodes):
            ctx.report(NOTHING_STARTS, document, container.element,
                       f"{what} has no start event and every element in it has an incoming flow, so nothing can "
                       f"start it; draw a start event where the flow begins")
    if container.nodes and not any(local(n) == "endEvent" for n in container.nodes):
        ctx.report(END_EVENT_REQUIRED, document, container.element,
                   f"{what} has no end event; end each path with one")
    blank = [s for s in starts if not event_definitions(s)]
    if len(blank) > 1:
        ctx.report(SINGLE_BLANK_START_EVENT, document, blank[1],
                   f"{what} has {len(blank)} start events without a trigger; it is unclear which one starts it, "
                   f"so keep one")
    if container.kind in ("subProcess", "transaction"):
        for start in starts:
            if container.is_event_sub_process and not event_definitions(start):
                ctx.report(EVENT_SUB_PROCESS_TYPED_START_EVENT, document, start,
                           f"{describe(start)} starts an event sub-process but has no trigger; give it a message, "
                           f"timer, signal, error, escalation or conditional definition")
            elif not container.is_event_sub_process and event_definitions(start):
                ctx.report(SUB_PROCESS_BLANK_START_EVENT, document, start,
                           f"{describe(start)} starts an embedded sub-process and must be blank; it runs when the "
                           f"flow arrives (use an event sub-process for triggered starts)")


def _connections(ctx: Context, document: Document, container: Container) -> None:
    for node in container.nodes:
        name = local(node)
        ins, outs = container.ins(node), container.outs(node)
        if name in EVENTS:
            definitions = event_definitions(node)
            if len(definitions) > 1:
                ctx.report(SINGLE_EVENT_DEFINITION, document, node,
                           f"{describe(node)} has {len(definitions)} event definitions; use one event per trigger")
        if name == "complexGateway":
            ctx.report(NO_COMPLEX_GATEWAY, document, node,
                       f"{describe(node)}: complex gateways cannot be run; use exclusive, inclusive or parallel "
                       f"gateways")
        elif name == "inclusiveGateway":
            ctx.report(NO_INCLUSIVE_GATEWAY, document, node,
                       f"{describe(node)} is an inclusive gateway; exclusive and parallel gateways are easier to read")
        if _label_required(node, outs) and not (node.get("name") or "").strip():
            ctx.report(LABEL_REQUIRED, document, node, f"{describe(node)} has no name; name it so the diagram "
                                                       f"reads as a process")
        if _exempt(container, node):
            continue
        if not ins and not outs:
            ctx.report(NO_DISCONNECTED, document, node, f"{describe(node)} is not connected to anything")
            continue
        if not ins and name not in ("startEvent", "boundaryEvent") and not _is_link(node):
            implicit = not any(local(n) == "startEvent" for n in container.nodes)
            effect = "it starts when the process starts (an implicit start); draw a start event before it" \
                if implicit else "so it never runs; connect it or start with a start event"
            ctx.report(NO_IMPLICIT_START, document, node, f"{describe(node)} has no incoming sequence flow, {effect}")
        if not outs and name != "endEvent" and not _is_link(node):
            ctx.report(NO_IMPLICIT_END, document, node,
                       f"{describe(node)} has no outgoing sequence flow, so its path ends there (an implicit end); "
                       f"end the path with an end event")


def _label_required(node: etree._Element, outs: list[etree._Element]) -> bool:
    name = local(node)
    if name == "parallelGateway" or (name in GATEWAYS and len(outs) <= 1):
        return False
    if name == "boundaryEvent":
        return False
    parent = node.getparent()
    return not (name in ("startEvent", "endEvent") and parent is not None and local(parent) != "process")


def _boundary_events(container: Container) -> dict[str, list[etree._Element]]:
    attached: dict[str, list[etree._Element]] = {}
    for node in container.nodes:
        if local(node) == "boundaryEvent":
            attached.setdefault(node.get("attachedToRef", ""), []).append(node)
    return attached


def _link_name(node: etree._Element) -> str:
    for definition in children(node, "linkEventDefinition"):
        return (definition.get("name") or node.get("name") or "").strip()
    return ""


def _edges(container: Container) -> dict[str, list[str]]:
    """Where the flow can go next from each node: sequence flows, boundary events and link jumps."""
    ids = container.node_ids()
    edges: dict[str, list[str]] = {i: [] for i in ids}
    for flow in container.flows:
        source, target = flow.get("sourceRef", ""), flow.get("targetRef", "")
        if source in ids and target in ids:
            edges[source].append(target)
    for attached_to, events in _boundary_events(container).items():
        if attached_to in edges:
            edges[attached_to].extend(e.get("id", "") for e in events)
    catches: dict[str, list[str]] = {}
    for node in container.nodes:
        if local(node) == "intermediateCatchEvent" and _is_link(node):
            catches.setdefault(_link_name(node), []).append(node.get("id", ""))
    for node in container.nodes:
        if local(node) == "intermediateThrowEvent" and _is_link(node):
            edges[node.get("id", "")].extend(catches.get(_link_name(node), []))
    return edges


def _walk(starts: Iterable[str], edges: dict[str, list[str]]) -> set[str]:
    seen = set(starts)
    queue = deque(seen)
    while queue:
        for nxt in edges.get(queue.popleft(), []):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def _reachability(ctx: Context, document: Document, container: Container) -> None:
    if container.kind == "adHocSubProcess":
        return
    edges = _edges(container)
    considered = [n for n in container.nodes if not _exempt(container, n)]
    # Implicit starts are entries too: they are reported once by no-implicit-start, not again for what follows them.
    entries = [n.get("id", "") for n in considered if local(n) == "startEvent" or not container.ins(n)
               and local(n) != "boundaryEvent" and not _is_link(n)]
    reached = _walk(entries, edges)
    for node in considered:
        if node.get("id", "") not in reached and container.ins(node):
            ctx.report(UNREACHABLE, document, node,
                       f"{describe(node)} cannot be reached from a start event; every path to it starts inside a "
                       f"loop that nothing enters")
    reverse: dict[str, list[str]] = {}
    for source, targets in edges.items():
        for target in targets:
            reverse.setdefault(target, []).append(source)
    exits = [i for i, targets in edges.items() if not targets]
    can_finish = _walk(exits, reverse)
    stuck = [n for n in considered if n.get("id", "") in reached and n.get("id", "") not in can_finish]
    if stuck:
        names = ", ".join(repr(n.get("name") or n.get("id")) for n in stuck[:3])
        more = f" and {len(stuck) - 3} more" if len(stuck) > 3 else ""
        ctx.report(ENDLESS_LOOP, document, stuck[0],
                   f"no path from {names}{more} leads to an end: the loop never finishes; add a way out (a "
                   f"gateway condition or a boundary event)")


def _splits_and_joins(ctx: Context, document: Document, container: Container) -> None:
    for node in container.nodes:
        name = local(node)
        ins, outs = container.ins(node), container.outs(node)
        default = node.get("default")
        unconditional = [f for f in outs if not _has_condition(f) and f.get("id") != default]
        if name not in GATEWAYS and len(unconditional) > 1:
            ctx.report(NO_IMPLICIT_SPLIT, document, node,
                       f"{describe(node)} has {len(unconditional)} unconditional outgoing flows, an implicit "
                       f"parallel split; use a parallel gateway")
        forking = bool(default) or (name in ("exclusiveGateway", "inclusiveGateway") and len(outs) > 1) or \
            any(_has_condition(f) for f in outs)
        if forking and name not in ("parallelGateway", "eventBasedGateway"):
            for flow in outs:
                if not _has_condition(flow) and flow.get("id") != default:
                    ctx.report(CONDITIONAL_FLOWS, document, flow,
                               f"sequence flow {flow.get('name') or flow.get('id')!r} out of {describe(node)} has "
                               f"no condition and is not the default flow; add a condition or make it the default")
        if (name in TASKS or local(node).endswith("Event")) and len(ins) > 1:
            ctx.report(FAKE_JOIN, document, node,
                       f"{describe(node)} has {len(ins)} incoming flows, which do not wait for each other; join "
                       f"them with a gateway")
        if name in GATEWAYS:
            if len(ins) > 1 and len(outs) > 1:
                ctx.report(NO_GATEWAY_JOIN_FORK, document, node,
                           f"{describe(node)} both joins and forks; split it into a joining and a forking gateway")
            elif len(ins) == 1 and len(outs) == 1:
                ctx.report(SUPERFLUOUS_GATEWAY, document, node,
                           f"{describe(node)} has one incoming and one outgoing flow, so it does nothing; remove it")


def _duplicate_flows(ctx: Context, document: Document, container: Container) -> None:
    seen: dict[tuple[str, str, str], etree._Element] = {}
    for flow in container.flows:
        texts = ["".join(c.itertext()) for c in children(flow, "conditionExpression")]
        condition = " ".join(" ".join(t.split()) for t in texts)
        key = (flow.get("sourceRef", ""), flow.get("targetRef", ""), condition)
        if key in seen:
            ctx.report(NO_DUPLICATE_SEQUENCE_FLOWS, document, flow,
                       f"sequence flow {flow.get('id')!r} duplicates {seen[key].get('id')!r} (same source, target "
                       f"and condition); remove one")
        else:
            seen[key] = flow


PER_DOCUMENT = (check_containers,)
