"""Rules about what elements refer to: called processes, messages, boundary attachments and link events."""

from __future__ import annotations

from lxml import etree

from ..errors import BpmnRunnerError
from ..namespaces import NSMAP
from ..loader.documents import Document, read_document, sibling_candidates
from ..loader.process_models import find_models_root, tree_candidates
from ._core import ACTIVITIES, Context, Rule, children, describe, event_definitions, local

CALL_ACTIVITY_TARGET = Rule("call-activity-target", "error", "a call activity names a process that is in the "
                                                             "loaded files or beside them")
MESSAGE_WITHOUT_CATCHER = Rule("message-without-catcher", "warning", "a message that is sent is caught somewhere "
                                                                     "(or drawn as a message flow out of the pool)")
MESSAGE_WITHOUT_THROWER = Rule("message-without-thrower", "info", "a message that is awaited is sent by a loaded "
                                                                  "diagram (else it must come from outside)")
BOUNDARY_EVENT_ATTACHMENT = Rule("boundary-event-attachment", "error", "a boundary event sits on an activity of its "
                                                                       "own process that can carry it")
LINK_EVENT = Rule("link-event", "error", "each link throw has exactly one link catch of the same name in its scope")
RULES = (CALL_ACTIVITY_TARGET, MESSAGE_WITHOUT_CATCHER, MESSAGE_WITHOUT_THROWER, BOUNDARY_EVENT_ATTACHMENT,
         LINK_EVENT)


def _called_process(call: etree._Element) -> str | None:
    """The called process id; None when a Camunda 8 expression computes it (it cannot be checked statically)."""
    called = (call.get("calledElement") or "").strip()
    if called:
        return called
    zeebe = call.xpath("./bpmn:extensionElements/zeebe:calledElement/@processId", namespaces=NSMAP)
    value = str(zeebe[0]).strip() if zeebe else ""
    if value.startswith("="):
        literal = value[1:].strip()
        return literal.strip('"') if literal.startswith('"') and literal.endswith('"') else None
    return value


def _sibling_processes(ctx: Context) -> set[str]:
    """Process ids in the .bpmn files beside the loaded ones and in their SpiffArena process-model tree: the other
    places `run` looks (never a path)."""
    if "sibling_processes" not in ctx.cache:
        found: set[str] = set()
        root = find_models_root(ctx.documents)
        tree = tree_candidates(root, ctx.documents) if root is not None else []
        for path in sibling_candidates(ctx.documents) + tree:
            try:
                found.update(read_document(path).process_ids())
            except BpmnRunnerError:
                continue
        ctx.cache["sibling_processes"] = found
    return ctx.cache["sibling_processes"]


def check_call_activities(ctx: Context) -> None:
    loaded = {pid for doc in ctx.bpmn_documents() for pid in doc.process_ids()}
    for document in ctx.bpmn_documents():
        for call in ctx.index(document).elements("callActivity"):
            called = _called_process(call)
            if called is None:
                continue
            if not called:
                ctx.report(CALL_ACTIVITY_TARGET, document, call,
                           f"{describe(call)} names no process to call; set its called element")
            elif called not in loaded and (ctx.failed_files or called not in _sibling_processes(ctx)):
                ctx.report(CALL_ACTIVITY_TARGET, document, call,
                           f"{describe(call)} calls process {called!r}, which is not in the loaded files or their "
                           f"folders; load the file that defines it")


_THROWERS = ("intermediateThrowEvent", "endEvent")
_CATCHERS = ("startEvent", "intermediateCatchEvent", "boundaryEvent")


def _message_name(index_by_id: dict[str, etree._Element], ref: str | None) -> str | None:
    if not ref:
        return None
    ref = ref.strip().split(":", 1)[-1]
    message = index_by_id.get(ref)
    if message is None or local(message) != "message":
        return None  # reported by dangling-reference
    return (message.get("name") or "").strip() or ref


def _message_uses(ctx: Context) -> tuple[list[tuple[Document, etree._Element, str]],
                                         list[tuple[Document, etree._Element, str]]]:
    """(thrower, message name) and (catcher, message name) pairs; messages match across files by name."""
    throws, catches = [], []
    for document in ctx.bpmn_documents():
        index = ctx.index(document)
        for element in document.root.iter():
            name = local(element)
            if name in _THROWERS or name in _CATCHERS:
                for definition in children(element, "messageEventDefinition"):
                    message = _message_name(index.by_id, definition.get("messageRef"))
                    if message:
                        (throws if name in _THROWERS else catches).append((document, element, message))
            elif name in ("sendTask", "receiveTask"):
                message = _message_name(index.by_id, element.get("messageRef"))
                if message:
                    (throws if name == "sendTask" else catches).append((document, element, message))
    return throws, catches


def _message_flow_ends(ctx: Context) -> tuple[set[str], set[str]]:
    sources, targets = set(), set()
    for document in ctx.bpmn_documents():
        for flow in ctx.index(document).elements("messageFlow"):
            sources.add(flow.get("sourceRef", ""))
            targets.add(flow.get("targetRef", ""))
    return sources, targets


def check_messages(ctx: Context) -> None:
    if ctx.failed_files:
        return  # the missing side may be in the file that failed to load
    throws, catches = _message_uses(ctx)
    flow_sources, flow_targets = _message_flow_ends(ctx)
    thrown = {name for _, _, name in throws}
    caught = {name for _, _, name in catches}
    for document, element, name in throws:
        if name not in caught and element.get("id") not in flow_sources:
            ctx.report(MESSAGE_WITHOUT_CATCHER, document, element,
                       f"{describe(element)} sends message {name!r}, which no loaded diagram catches; add the "
                       f"catching event, or draw a message flow to the pool that receives it")
    for document, element, name in catches:
        if name not in thrown and element.get("id") not in flow_targets:
            ctx.report(MESSAGE_WITHOUT_THROWER, document, element,
                       f"{describe(element)} waits for message {name!r}, which no loaded diagram sends; it must "
                       f"come from outside (bpmn-runner message)")


def check_boundary_events(ctx: Context, document: Document) -> None:
    index = ctx.index(document)
    for event in index.elements("boundaryEvent"):
        ref = (event.get("attachedToRef") or "").strip()
        target = index.by_id.get(ref)
        if not ref or target is None:
            what = "is attached to nothing" if not ref else f"is attached to {ref!r}, which does not exist"
            ctx.report(BOUNDARY_EVENT_ATTACHMENT, document, event, f"{describe(event)} {what}; attach it to a task, "
                                                                   f"sub-process or call activity")
            continue
        if local(target) not in ACTIVITIES:
            ctx.report(BOUNDARY_EVENT_ATTACHMENT, document, event,
                       f"{describe(event)} is attached to {describe(target)}; only tasks, sub-processes and call "
                       f"activities can carry boundary events")
            continue
        if target.getparent() is not event.getparent():
            ctx.report(BOUNDARY_EVENT_ATTACHMENT, document, event,
                       f"{describe(event)} is attached to {describe(target)} in another process or sub-process; "
                       f"move it onto the activity's own level")
            continue
        definitions = event_definitions(event)
        if "cancelEventDefinition" in definitions and local(target) != "transaction":
            ctx.report(BOUNDARY_EVENT_ATTACHMENT, document, event,
                       f"{describe(event)} is a cancel event on {describe(target)}; cancel boundary events only "
                       f"work on transactions")
        if "errorEventDefinition" in definitions and event.get("cancelActivity") == "false":
            ctx.report(BOUNDARY_EVENT_ATTACHMENT, document, event,
                       f"{describe(event)} is a non-interrupting error event; error boundary events always "
                       f"interrupt, so set cancelActivity to true")


def check_link_events(ctx: Context, document: Document) -> None:
    for container in ctx.index(document).containers:
        throws: list[tuple[str, etree._Element]] = []
        catches: dict[str, list[etree._Element]] = {}
        for node in container.nodes:
            for definition in children(node, "linkEventDefinition"):
                name = (definition.get("name") or node.get("name") or "").strip()
                if not name:
                    ctx.report(LINK_EVENT, document, node, f"{describe(node)} is a link event without a link name; "
                                                           f"name it so throw and catch can be paired")
                elif local(node) == "intermediateThrowEvent":
                    throws.append((name, node))
                elif local(node) == "intermediateCatchEvent":
                    catches.setdefault(name, []).append(node)
        for name, nodes in catches.items():
            for extra in nodes[1:]:
                ctx.report(LINK_EVENT, document, extra, f"{describe(extra)}: another link catch event is also "
                                                        f"named {name!r}; link names must be unique in a scope")
        for name, node in throws:
            if name not in catches:
                ctx.report(LINK_EVENT, document, node, f"{describe(node)} throws link {name!r}, but no link catch "
                                                       f"event of that name is in the same process or sub-process")
        thrown = {name for name, _ in throws}
        for name, nodes in catches.items():
            if name not in thrown:
                ctx.report(LINK_EVENT, document, nodes[0], f"{describe(nodes[0])} catches link {name!r}, but no "
                                                           f"link throw event of that name is in its scope")


PER_DOCUMENT = (check_boundary_events, check_link_events)
ACROSS_DOCUMENTS = (check_call_activities, check_messages)
