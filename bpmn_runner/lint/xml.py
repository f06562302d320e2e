"""File-level rules: readable, well-formed, not hostile, a BPMN document, valid against the XSD, ids and references."""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from lxml import etree

from .._spiff.schema import bpmn_xsd_path
from ..errors import BpmnRunnerError, XmlError
from ..namespaces import BPMN_NS
from ..loader.documents import Document, display_name, read_document
from ._core import FLOW_NODES, Context, Finding, Rule, bpmn, describe, local

FILE_READABLE = Rule("file-readable", "error", "the path exists and is a readable file, or a folder with diagrams",
                     downgrade=False)
XML_WELL_FORMED = Rule("xml-well-formed", "error", "the file is UTF-8 (or declared) XML that parses", downgrade=False)
XML_HOSTILE = Rule("xml-hostile", "error", "no DOCTYPE, entities, XInclude, oversized file or excessive nesting",
                   downgrade=False)
BPMN_NAMESPACE = Rule("bpmn-namespace", "error", "the root is bpmn:definitions (or DMN definitions) in the OMG "
                                                 "namespace", downgrade=False)
BPMN_SCHEMA = Rule("bpmn-schema", "warning", "the file is valid against the BPMN 2.0 XSD (many modeler exports "
                                             "are not; they still load)")
DUPLICATE_ID = Rule("duplicate-id", "error", "every id is used once in a file")
DANGLING_REFERENCE = Rule("dangling-reference", "error", "sourceRef, targetRef, default, messageRef, signalRef, "
                                                         "errorRef, escalationRef and processRef name an element "
                                                         "of the right kind")
NOT_EXECUTABLE = Rule("not-executable", "info", "the file has no process with isExecutable=\"true\"; its errors "
                                                "are reported as warnings")
RULES = (FILE_READABLE, XML_WELL_FORMED, XML_HOSTILE, BPMN_NAMESPACE, BPMN_SCHEMA, DUPLICATE_ID, DANGLING_REFERENCE,
         NOT_EXECUTABLE)

_HOSTILE_WORDS = ("DOCTYPE", "entit", "XInclude", "-byte limit", "nesting is deeper", "Excessive depth",
                  "amplification", "is binary")
_SCHEMA_FINDINGS_PER_FILE = 20


def read_all(paths: list[str | Path], ctx: Context) -> None:
    """Read every given file (folders: their .bpmn/.dmn files); unreadable ones become findings, not exceptions."""
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in (".bpmn", ".dmn"))
            if not found:
                ctx.files.append(str(raw))
                ctx.add(Finding(str(raw), 1, "error", "folder holds no .bpmn or .dmn files", FILE_READABLE.id))
        elif path.exists() or path.is_symlink():
            found = [path]
        else:
            ctx.files.append(str(raw))
            ctx.add(Finding(str(raw), 1, "error", "no such file or folder", FILE_READABLE.id))
            found = []
        for file in found:
            key = file.resolve()
            if key in seen:
                continue
            seen.add(key)
            _read_one(file, ctx)


def _read_one(path: Path, ctx: Context) -> None:
    ctx.files.append(display_name(path))
    try:
        ctx.documents.append(read_document(path))
    except BpmnRunnerError as exc:
        name = exc.file or display_name(path)
        ctx.failed_files.append(name)
        ctx.add(Finding(name, exc.line or 1, "error", " ".join(exc.message.split()), _rule_of(exc).id))


def _rule_of(exc: BpmnRunnerError) -> Rule:
    if not isinstance(exc, XmlError):
        return XML_WELL_FORMED
    if exc.message.startswith(("cannot read file", "is a directory")):
        return FILE_READABLE
    if exc.message.startswith("not a BPMN or DMN document"):
        return BPMN_NAMESPACE
    if any(word in exc.message for word in _HOSTILE_WORDS):
        return XML_HOSTILE
    return XML_WELL_FORMED


@lru_cache(maxsize=1)
def _schema() -> etree.XMLSchema:
    # The OMG XSD SpiffWorkflow ships; built once per process, it validates in ms.
    return etree.XMLSchema(etree.parse(bpmn_xsd_path()))


def check_schema(ctx: Context, document: Document) -> None:
    tree = document.tree
    retrieval = f"{{{BPMN_NS}}}correlationPropertyRetrievalExpression/{{{BPMN_NS}}}formalExpression"
    if document.root.find(f".//{retrieval}") is not None:
        # bpmn-js writes formalExpression where the XSD wants messagePath (SpiffWorkflow's validator does the same).
        tree = copy.deepcopy(tree)
        for node in tree.getroot().iterfind(f".//{retrieval}"):
            node.tag = bpmn("messagePath")
    schema = _schema()
    if schema.validate(tree):
        return
    errors = list(schema.error_log)
    for error in errors[:_SCHEMA_FINDINGS_PER_FILE]:
        message = error.message.replace(f"{{{BPMN_NS}}}", "bpmn:")
        ctx.add(Finding(document.name, error.line or 1, BPMN_SCHEMA.severity, f"not valid BPMN 2.0: {message}",
                        BPMN_SCHEMA.id))
    if len(errors) > _SCHEMA_FINDINGS_PER_FILE:
        ctx.add(Finding(document.name, errors[_SCHEMA_FINDINGS_PER_FILE].line or 1, BPMN_SCHEMA.severity,
                        f"... and {len(errors) - _SCHEMA_FINDINGS_PER_FILE} more schema problems",
                        BPMN_SCHEMA.id))


def check_ids(ctx: Context, document: Document) -> None:
    first: dict[str, etree._Element] = {}
    for element in _model_elements(document.root):
        element_id = element.get("id")
        if not element_id:
            continue
        if element_id in first:
            # Two processes with one id stop every load, executable or not, so that one is never downgraded.
            ctx.report(DUPLICATE_ID, document, None if local(element) == "process" else element,
                       f"id {element_id!r} is used again (first at line {first[element_id].sourceline}); "
                       f"give each element its own id", line=element.sourceline)
        else:
            first[element_id] = element


_OMG_NAMESPACES = (BPMN_NS, "http://www.omg.org/spec/BPMN/20100524/DI", "http://www.omg.org/spec/DD/20100524/DC",
                   "http://www.omg.org/spec/DD/20100524/DI")


def _model_elements(root: etree._Element) -> Iterator[etree._Element]:
    """BPMN and DI elements, skipping extension elements (vendors reuse ids there freely)."""
    stack = [root]
    while stack:
        element = stack.pop()
        if not isinstance(element.tag, str) or local(element) == "extensionElements":
            continue
        if etree.QName(element).namespace in _OMG_NAMESPACES:
            yield element
        stack.extend(reversed(element))


# attribute -> the local names of the elements it may name
_REFS = {
    "messageRef": ("message",),
    "signalRef": ("signal",),
    "errorRef": ("error",),
    "escalationRef": ("escalation",),
    "processRef": ("process",),
}


def check_references(ctx: Context, document: Document) -> None:
    index = ctx.index(document)
    for container in index.containers:
        node_ids = container.node_ids()
        for flow in container.flows:
            for attr in ("sourceRef", "targetRef"):
                ref = (flow.get(attr) or "").strip()
                if ref in node_ids:
                    continue
                if not ref:
                    problem = f"has no {attr}"
                elif ref not in index.by_id:
                    problem = f"{attr} {ref!r} names no element"
                elif local(index.by_id[ref]) in FLOW_NODES:
                    problem = (f"{attr} {ref!r} is in another process or sub-process; sequence flows cannot "
                               f"cross that boundary")
                else:
                    problem = f"{attr} {ref!r} is a {local(index.by_id[ref]) or 'foreign element'}, not a flow node"
                ctx.report(DANGLING_REFERENCE, document, flow, f"sequence flow {flow.get('id', '?')!r} {problem}")
        for node in container.nodes:
            default = node.get("default")
            if default and all(f.get("id") != default for f in container.outs(node)):
                ctx.report(DANGLING_REFERENCE, document, node,
                           f"{describe(node)}: default flow {default!r} is not one of its outgoing sequence flows")
    for element in document.root.iter():
        if not isinstance(element.tag, str) or not local(element):
            continue
        for attr, kinds in _REFS.items():
            ref = element.get(attr)
            if ref is None:
                continue
            target = index.by_id.get(_strip_prefix(ref.strip()))
            if target is None or local(target) not in kinds:
                article = "an" if kinds[0][0] in "aeiou" else "a"
                what = "names nothing" if not ref.strip() else \
                    f"{ref.strip()!r} is not {article} {kinds[0]} in this file"
                ctx.report(DANGLING_REFERENCE, document, element, f"{describe(element)}: {attr} {what}")
    for flow in index.elements("messageFlow"):
        for attr in ("sourceRef", "targetRef"):
            ref = (flow.get(attr) or "").strip()
            if _strip_prefix(ref) not in index.by_id:
                ctx.report(DANGLING_REFERENCE, document, flow,
                           f"message flow {flow.get('id', '?')!r}: {attr} {ref!r} names no element")


def _strip_prefix(ref: str) -> str:
    """Some tools write QName references (`tns:Message_1`); the id is the part after the colon."""
    return ref.split(":", 1)[1] if ":" in ref else ref


def check_executable(ctx: Context, document: Document) -> None:
    index = ctx.index(document)
    with_content = [c.element for c in index.containers if c.kind == "process" and c.nodes]
    if with_content and not any(index.is_executable(p) for p in with_content):
        ctx.report(NOT_EXECUTABLE, document, with_content[0],
                   "no process in this file is executable (isExecutable=\"true\"), so `run` cannot start it; "
                   "its problems are reported as warnings")


PER_DOCUMENT = (check_schema, check_ids, check_references, check_executable)
