"""What every lint rule family shares: rules, findings, and the per-run context with its element indexes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

from lxml import etree

from ..kinds import (ACTIVITY_KINDS, CONTAINER_KINDS, EVENT_KINDS, FLOW_NODE_KINDS, GATEWAY_KINDS, SUBPROCESS_KINDS,
                     TASK_KINDS, kind_phrase)
from ..namespaces import BPMN_NS
from ..loader.documents import Document
from ..registry import HandlerRegistry

SEVERITIES = ("error", "warning", "info")

# The kinds the rules speak of, from the one table in `bpmn_runner.kinds`.
TASKS = TASK_KINDS
SUB_PROCESSES = SUBPROCESS_KINDS
ACTIVITIES = ACTIVITY_KINDS
EVENTS = EVENT_KINDS
GATEWAYS = GATEWAY_KINDS
FLOW_NODES = FLOW_NODE_KINDS
CONTAINERS = CONTAINER_KINDS


@dataclass(frozen=True)
class Rule:
    """One check: an id a team can disable, its default severity and a one-line description."""

    id: str
    severity: str
    description: str
    # Findings inside a process with isExecutable="false" are at most warnings: such a file is linted, not refused.
    downgrade: bool = True


@dataclass(frozen=True)
class Finding:
    """One problem at one line of one file."""

    file: str
    line: int
    severity: str
    message: str
    rule: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.severity}: {self.message} [{self.rule}]"

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "severity": self.severity, "message": self.message,
                "rule": self.rule}


def local(element: Any) -> str:
    """The local name of a BPMN element, '' for comments, processing instructions and foreign elements."""
    tag = getattr(element, "tag", None)
    if not isinstance(tag, str) or not tag.startswith(f"{{{BPMN_NS}}}"):
        return ""
    return tag[len(BPMN_NS) + 2:]


def bpmn(tag: str) -> str:
    return f"{{{BPMN_NS}}}{tag}"


def children(element: etree._Element, *names: str) -> list[etree._Element]:
    """Direct BPMN children, optionally only those with the given local names."""
    return [c for c in element if local(c) and (not names or local(c) in names)]


def event_definitions(element: etree._Element) -> list[str]:
    """Local names of an event's definitions, e.g. ['timerEventDefinition']."""
    return [local(c) for c in element if local(c).endswith("EventDefinition") or local(c) == "eventDefinitionRef"]


def describe(element: etree._Element) -> str:
    """`service task 'Charge card'` or `exclusive gateway 'Gateway_1'`: how an analyst finds it in the modeler."""
    kind = kind_phrase(local(element))
    label = (element.get("name") or "").strip() or element.get("id") or "?"
    return f"{kind} {' '.join(label.split())!r}"


@dataclass
class Container:
    """A process or sub-process: its flow nodes and the sequence flows between them."""

    element: etree._Element
    nodes: list[etree._Element] = field(default_factory=list)
    flows: list[etree._Element] = field(default_factory=list)
    incoming: dict[str, list[etree._Element]] = field(default_factory=dict)
    outgoing: dict[str, list[etree._Element]] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return local(self.element)

    @property
    def is_event_sub_process(self) -> bool:
        return self.element.get("triggeredByEvent") == "true"

    def node_ids(self) -> set[str]:
        return {n.get("id", "") for n in self.nodes}

    def ins(self, node: etree._Element) -> list[etree._Element]:
        return self.incoming.get(node.get("id", ""), [])

    def outs(self, node: etree._Element) -> list[etree._Element]:
        return self.outgoing.get(node.get("id", ""), [])


class DocIndex:
    """Indexes of one BPMN document, built once so that every rule stays linear in the file size."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self.by_id: dict[str, etree._Element] = {}
        self.containers: list[Container] = []
        self._executable: dict[Any, bool] = {}
        for element in document.root.iter():
            if not isinstance(element.tag, str):
                continue
            element_id = element.get("id")
            if element_id and element_id not in self.by_id:
                self.by_id[element_id] = element
            if local(element) in CONTAINERS:
                self.containers.append(self._container(element))

    @staticmethod
    def _container(element: etree._Element) -> Container:
        container = Container(element)
        for child in element:
            name = local(child)
            if name in FLOW_NODES:
                container.nodes.append(child)
            elif name == "sequenceFlow":
                container.flows.append(child)
                container.outgoing.setdefault(child.get("sourceRef", ""), []).append(child)
                container.incoming.setdefault(child.get("targetRef", ""), []).append(child)
        return container

    def processes(self) -> list[etree._Element]:
        return [c.element for c in self.containers if c.kind == "process"]

    def elements(self, *names: str) -> Iterator[etree._Element]:
        return self.document.root.iter(*(bpmn(n) for n in names))

    def process_of(self, element: etree._Element) -> etree._Element | None:
        node: etree._Element | None = element
        while node is not None and local(node) != "process":
            node = node.getparent()
        return node

    def is_executable(self, element: etree._Element) -> bool:
        """Whether the element sits in a process SpiffWorkflow would run (isExecutable missing counts as true)."""
        process = self.process_of(element)
        if process is None:
            return True
        if process not in self._executable:
            self._executable[process] = process.get("isExecutable", "true").strip() == "true"
        return self._executable[process]


@dataclass
class Context:
    """Everything one lint run knows: the documents that loaded, the handlers, the options, and the findings."""

    handlers: HandlerRegistry | None = None
    handlers_given: bool = False
    trust_scripts: bool = False
    files: list[str] = field(default_factory=list)  # every file read, in the order given
    documents: list[Document] = field(default_factory=list)
    failed_files: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    indexes: dict[str, DocIndex] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict)
    # (file, id of the element or its nearest ancestor with one) of every error, so the engine's verdict on the
    # same element is not reported twice
    flagged: set[tuple[str, str]] = field(default_factory=set)

    def index(self, document: Document) -> DocIndex:
        if document.name not in self.indexes:
            self.indexes[document.name] = DocIndex(document)
        return self.indexes[document.name]

    def bpmn_documents(self) -> list[Document]:
        return [d for d in self.documents if d.kind == "bpmn"]

    def report(self, rule: Rule, document: Document, element: etree._Element | None, message: str, *,
               line: int | None = None, severity: str | None = None) -> None:
        """Record a finding at the element's line; errors inside non-executable processes become warnings."""
        level = severity or rule.severity
        if level == "error" and rule.downgrade and element is not None and not self.index(document).is_executable(
                element):
            level = "warning"
        where = line or (element.sourceline if element is not None else None) or 1
        self.findings.append(Finding(document.name, where, level, " ".join(message.split()), rule.id))
        if level == "error" and element is not None:
            owner: etree._Element | None = element
            while owner is not None and not owner.get("id"):
                owner = owner.getparent()
            if owner is not None:
                self.flagged.add((document.name, owner.get("id", "")))

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)
