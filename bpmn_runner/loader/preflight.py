"""Definition errors found at load with file, line and element, before any handler runs: a condition, mapping or
timer expression that does not parse (a run would meet it mid-way), and a reference to a message, signal, error or
escalation the file does not define (the spec builder would stop on it with an internal error)."""

from __future__ import annotations

import ast
import textwrap
from typing import Iterator

from lxml import etree

from .. import expressions
from ..errors import DefinitionError, ExpressionError
from ..kinds import kind_phrase
from ..models import FEEL_SCRIPT_MARKER, JAVASCRIPT_MARKER, JAVASCRIPT_TASK_MARKER
from ..namespaces import BPMN_NS, bpmn_tag
from ..cron import is_cron
from ..timing import looks_iso
from .dialects import read_io_mappings, read_spiff_parameters
from .tree import text_of

_CONDITIONS = {"conditionExpression": "condition", "completionCondition": "completion condition",
               "loopCondition": "loop condition", "condition": "condition"}


_REFERENCES = {"messageRef": "message", "signalRef": "signal", "errorRef": "error", "escalationRef": "escalation"}


# The elements, in document order, the checks below look at: libxml2 finds them, not a walk in Python.
_WITH_REFERENCES = etree.XPath("descendant-or-self::*[@" + " or @".join(_REFERENCES) + "]")
_WITH_EXTENSIONS = etree.XPath("descendant-or-self::*[@id != ''][bpmn:extensionElements]",
                               namespaces={"bpmn": BPMN_NS})


def check_references(root: etree._Element, name: str) -> None:
    """Every message, signal, error and escalation an executable process refers to is defined in the file (the spec
    builder would otherwise stop on it with an internal error)."""
    kinds = {e.get("id"): etree.QName(e).localname for e in root.iter(*(bpmn_tag(k) for k in _REFERENCES.values()))}
    for process in _executable(root):
        for element in _WITH_REFERENCES(process):
            for attr, kind in _REFERENCES.items():
                ref = (element.get(attr) or "").strip()
                if ref and kinds.get(ref.split(":", 1)[-1]) != kind:
                    owner = _owner(element)
                    local = etree.QName(owner).localname
                    raise DefinitionError(f"{kind_phrase(local)} {owner.get('id', '')!r}: {attr} {ref!r} names no "
                                          f"{kind} in this file; define the {kind} or pick it in the modeler",
                                          file=name, line=element.sourceline or 1, element_id=owner.get("id"))


def _executable(root: etree._Element) -> list[etree._Element]:
    return [p for p in root.iter(bpmn_tag("process")) if p.get("isExecutable", "true") == "true"]


def check_expressions(root: etree._Element, name: str) -> None:
    """Parse every condition, mapping and SpiffArena parameter of the executable processes (after `normalize`,
    which has refused unsupported languages and marked FEEL); the first that does not parse is a DefinitionError."""
    for process in _executable(root):
        for element, owner, what, text in _expressions(process):
            try:
                expressions.check_syntax(text)
            except ExpressionError as exc:
                local = etree.QName(owner).localname
                raise DefinitionError(f"{kind_phrase(local)} {owner.get('id', '')!r}: {what}: {exc.message}; "
                                      f"fix it in the modeler", file=name, line=element.sourceline or 1,
                                      element_id=owner.get("id")) from None
        for task in process.iter(bpmn_tag("scriptTask")):
            try:
                script = task.find(bpmn_tag("script"))
                _check_script(script.text or "" if script is not None else "")
            except ExpressionError as exc:
                raise DefinitionError(f"{kind_phrase('scriptTask')} {task.get('id', '')!r}: script: {exc.message}; "
                                      f"fix it in the modeler", file=name, line=task.sourceline or 1,
                                      element_id=task.get("id")) from None


def _check_script(text: str) -> None:
    """A script task's body parses in its language (after `normalize` marked JavaScript and FEEL scripts)."""
    if text.startswith(JAVASCRIPT_TASK_MARKER):
        expressions.check_syntax(JAVASCRIPT_MARKER + text.partition("\n")[2])
    elif text.startswith(FEEL_SCRIPT_MARKER):
        expressions.check_syntax(text.partition("\n")[2])
    elif text.strip():
        try:
            ast.parse(textwrap.dedent(text), "<script>", "exec")
        except SyntaxError as exc:
            raise ExpressionError(f"script line {exc.lineno or 1}: {exc.msg}") from None
        except (RecursionError, MemoryError, ValueError):
            raise ExpressionError("the script is nested too deeply or contains invalid characters") from None


def _expressions(process: etree._Element) -> Iterator[tuple[etree._Element, etree._Element, str, str]]:
    """(element holding the text, flow node or flow it belongs to, what it is, text) of every non-empty expression
    the engine evaluates."""
    for element in process.iter(*(bpmn_tag(t) for t in _CONDITIONS)):
        parent = element.getparent()
        local = etree.QName(element).localname
        if local == "condition" and etree.QName(parent).localname != "conditionalEventDefinition":
            continue
        text = text_of(element)
        if text:
            yield element, _owner(element), _CONDITIONS[local], text
    for element in process.iter(*(bpmn_tag(t) for t in ("timeDate", "timeDuration", "timeCycle"))):
        text = text_of(element)
        if text and not looks_iso(text) and not is_cron(text):  # ISO and cron text: the spec builder checks
            yield element, _owner(element), f"timer {etree.QName(element).localname}", text
    for task in _WITH_EXTENSIONS(process):
        io = read_io_mappings(task)
        for mapping in io.inputs + io.outputs:
            if mapping.source and expressions.dialect_of(mapping.source) != "python":
                yield task, task, f"mapping of {mapping.target!r}", mapping.source
        for parameter, value in read_spiff_parameters(task).items():
            if value.strip():
                yield task, task, f"parameter {parameter!r}", value


def _owner(element: etree._Element) -> etree._Element:
    """The element with an id that a condition belongs to (a flow, an activity or an event)."""
    node: etree._Element | None = element
    while node is not None and not node.get("id"):
        node = node.getparent()
    return node if node is not None else element
