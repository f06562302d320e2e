"""Reading compensation from BPMN: which activity each compensation handler undoes, per scope, for the ledger.

A compensation boundary event is not a SpiffWorkflow boundary event (it never interrupts anything): it is left
out of the task tree, and its handler (`isForCompensation`, linked by an association) is parsed as a free task
spec. Compensation event sub-processes are not armed at the start of their scope; they run when their scope is
compensated. Handlers run in the workflow of the event that throws the compensation, so every process spec also
holds the handlers (and compensation event sub-processes) of the scopes it can compensate.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException

from ..namespaces import NSMAP, document_dialect

COMPENSATE = "compensateEventDefinition"
EVENT_SUBPROCESS_XPATH = "./bpmn:subProcess[@triggeredByEvent='true']"
_SCOPES = ("subProcess", "transaction")


def local(node: Any) -> str:
    tag = node.tag if isinstance(node.tag, str) else ""
    return tag.rsplit("}", 1)[-1]


def _x(node: Any, path: str) -> list[Any]:
    return node.xpath(path, namespaces=NSMAP)


def is_compensation_boundary(node: Any) -> bool:
    return local(node) == "boundaryEvent" and bool(_x(node, f"./bpmn:{COMPENSATE}"))


def is_compensation_event_subprocess(node: Any) -> bool:
    return local(node) == "subProcess" and node.get("triggeredByEvent") == "true" and \
        bool(_x(node, f"./bpmn:startEvent/bpmn:{COMPENSATE}"))


def associated_handlers(boundary: Any) -> list[Any]:
    """The activities an association links to this boundary event (either direction), marked or not."""
    root = boundary.getroottree().getroot()
    ident = boundary.get("id")
    out = []
    for assoc in root.xpath("//bpmn:association[@sourceRef=$i or @targetRef=$i]", namespaces=NSMAP, i=ident):
        other = assoc.get("targetRef") if assoc.get("sourceRef") == ident else assoc.get("sourceRef")
        found = root.xpath("//*[@id=$i]", i=other or "")
        if found and local(found[0]) not in ("textAnnotation", "dataObjectReference", "dataStoreReference"):
            out.append(found[0])
    return out


def _child_scopes(scope: Any) -> list[Any]:
    # "{*}": any namespace, as `local` reads tags; libxml2 picks the children instead of a loop over all of them
    return [n for n in scope.iterchildren(*(f"{{*}}{name}" for name in _SCOPES))
            if n.get("triggeredByEvent") != "true"]


def scope_plan(scope: Any) -> dict[str, Any]:
    """For one process or sub-process element: activity -> handler, activity -> boundary event, the nested
    scopes that can hold compensable activities, and its own compensation event sub-process."""
    handlers: dict[str, str] = {}
    boundaries: dict[str, str] = {}
    for boundary in _x(scope, f"./bpmn:boundaryEvent[bpmn:{COMPENSATE}]"):
        marked = [h for h in associated_handlers(boundary) if h.get("isForCompensation") == "true"]
        if len(marked) != 1:
            raise ValidationException(
                f"compensation boundary event needs exactly one associated activity marked isForCompensation "
                f"(found {len(marked)}); connect its handler with an association", node=boundary,
                file_name=None)
        root = scope.getroottree().getroot()
        if root.xpath("//bpmn:boundaryEvent[@attachedToRef=$i]", namespaces=NSMAP, i=marked[0].get("id")):
            raise ValidationException("a compensation handler with boundary events of its own is not supported; "
                                      "make the handler a sub-process and handle its errors inside",
                                      node=marked[0], file_name=None)
        handlers[boundary.get("attachedToRef")] = marked[0].get("id")
        boundaries[boundary.get("attachedToRef")] = boundary.get("id")
    own = [n for n in _x(scope, EVENT_SUBPROCESS_XPATH) if is_compensation_event_subprocess(n)]
    subscopes = [n.get("id") for n in _child_scopes(scope) if _compensable_inside(n)]
    anything = bool(handlers or subscopes or own)  # the dialect is read (a walk of the file) only if it matters
    return {
        "handlers": handlers,
        "boundaries": boundaries,
        "subscopes": subscopes,
        "event_subprocess": own[0].get("id") if own else None,
        "triggered_by_event": scope.get("triggeredByEvent") == "true",
        "parallel": anything and document_dialect(scope.getroottree().getroot()) == "camunda8",
    }


def _compensable_inside(scope: Any) -> bool:
    """Whether compensating this sub-process can do anything: a handler inside it, or its own compensation event
    sub-process (completions of other sub-processes are not recorded)."""
    return bool(compensable_nodes(scope)) or any(is_compensation_event_subprocess(n)
                                                 for n in _x(scope, EVENT_SUBPROCESS_XPATH))


def compensable_nodes(target: Any) -> list[Any]:
    """Handlers and nested compensation event sub-processes a compensation of `target` may run."""
    out: list[Any] = []
    stack = [target]
    while stack:
        scope = stack.pop()
        for boundary in _x(scope, f"./bpmn:boundaryEvent[bpmn:{COMPENSATE}]"):
            out.extend(h for h in associated_handlers(boundary) if h.get("isForCompensation") == "true")
        for child in _child_scopes(scope):
            out.extend(n for n in _x(child, EVENT_SUBPROCESS_XPATH) if is_compensation_event_subprocess(n))
            stack.append(child)
    return out


def compensation_targets(scope: Any) -> list[Any]:
    """Scopes a throw event inside `scope` can compensate: its own, and for an event sub-process its parent's."""
    targets = [scope]
    parent = scope.getparent()
    if scope.get("triggeredByEvent") == "true" and parent is not None and local(parent) in ("process", *_SCOPES):
        targets.append(parent)
    return targets


class CompensationScopeMixin:
    """Mixed into our process parsers (before SinksFirstMixin)."""

    node: Any
    spec: Any
    parser: Any

    def get_boundary_events(self, attached_to_ref: str) -> list[Any]:
        return [e for e in super().get_boundary_events(attached_to_ref)  # type: ignore[misc]
                if not is_compensation_boundary(e)]

    def xpath(self, xpath: str) -> list[Any]:
        nodes = super().xpath(xpath)  # type: ignore[misc]
        if xpath == EVENT_SUBPROCESS_XPATH:  # ProcessParser.add_tasks arms these at the start of the scope
            nodes = [n for n in nodes if not is_compensation_event_subprocess(n)]
        return nodes

    def add_tasks(self) -> None:
        super().add_tasks()  # type: ignore[misc]
        try:
            self.spec.runner_compensation = scope_plan(self.node)
        except ValidationException as exc:
            exc.file_name = self.filename  # type: ignore[attr-defined]
            raise
        for target in compensation_targets(self.node):
            for node in compensable_nodes(target):
                self._parse_here(node)

    def _parse_here(self, node: Any) -> None:
        """Parse a handler into this scope's spec; a sub-process keeps the parent its own scope gave it."""
        sub = self.parser.process_parsers.get(node.get("id"))
        parent = sub.parent if sub is not None else None
        spec = self.parse_node(node)  # type: ignore[attr-defined]
        if not spec.inputs:  # SpiffWorkflow refuses to ready a task without an input; no flow leads here though
            spec.inputs = [self.spec.start]
        sub = self.parser.process_parsers.get(node.get("id"))
        if sub is not None and parent is not None:
            sub.parent = parent


def create_parser_once(base: type) -> Any:
    def create_parser(self: Any, node: Any, filename: str | None = None, lane: str | None = None) -> None:
        """BpmnParser.create_parser, but a sub-process parsed into a second scope reuses its process parser."""
        existing = self.process_parsers.get(node.get("id"))
        if existing is not None and existing.node is node:
            return
        base.create_parser(self, node, filename=filename, lane=lane)
    return create_parser


def create_throw(parser: Any, spec_class: type) -> Any:
    """A compensation throw event (intermediate or end) from its compensateEventDefinition."""
    definition = _x(parser.node, f"./bpmn:{COMPENSATE}")[0]
    activity_ref = definition.get("activityRef") or None
    if activity_ref is not None and not parser.node.getroottree().getroot().xpath("//*[@id=$i]", i=activity_ref):
        raise ValidationException(f"compensation activityRef {activity_ref!r} names no activity in this file",
                                  node=parser.node, file_name=parser.filename)
    wait = (definition.get("waitForCompletion") or "true").strip().lower() != "false"
    parallel = document_dialect(parser.node.getroottree().getroot()) == "camunda8"
    return spec_class(parser.spec, parser.bpmn_id, activity_ref=activity_ref, wait_for_completion=wait,
                      parallel=parallel, **parser.bpmn_attributes)


def is_compensation_start(node: Any) -> bool:
    """The start event of a compensation event sub-process (it runs when its scope is compensated)."""
    parent = node.getparent()
    return parent is not None and is_compensation_event_subprocess(parent)
