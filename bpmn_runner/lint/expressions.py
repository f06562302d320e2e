"""Expression rules: conditions, mappings and scripts parse in their dialect and stay inside the sandbox."""

from __future__ import annotations

import ast
import re
import textwrap
from typing import Iterator

from lxml import etree

from .. import expressions
from ..errors import ExpressionError
from ..expressions.scripts import check_script
from ..loader.dialects import NSMAP, read_io_mappings, read_spiff_parameters
from ..loader.documents import Document
from ._core import Context, Rule, children, describe, local

EXPRESSION_SYNTAX = Rule("expression-syntax", "error", "every condition and mapping parses in its dialect (Python, "
                                                       "JUEL ${...} or FEEL =...)")
SCRIPT_SYNTAX = Rule("script-syntax", "error", "every script is Python (or a Camunda 8 FEEL script) that parses")
SANDBOX = Rule("sandbox", "error", "scripts and conditions use nothing the sandbox refuses (imports, dunder "
                                   "names); off with --trust-scripts")
RULES = (EXPRESSION_SYNTAX, SCRIPT_SYNTAX, SANDBOX)

PYTHON_SCRIPT_FORMATS = {"", "python", "python3", "py", "text/x-python", "text/python", "application/x-python"}
_FEEL_LANGUAGES = ("feel", "https://www.omg.org/spec/dmn/20191111/feel", "http://www.omg.org/spec/feel/20140401")
_SCRIPT_LINE = re.compile(r"^script line (\d+):")
_TRUST_HINT = "pass --trust-scripts (or set trust_scripts = true under [tool.bpmn-runner]) to run it as full Python"


def _text(element: etree._Element) -> str:
    return "".join(element.itertext()).strip()


def _owner(element: etree._Element) -> etree._Element:
    """The flow element a condition or script belongs to, for the message."""
    node: etree._Element | None = element
    while node is not None and not node.get("id"):
        node = node.getparent()
    return node if node is not None else element


def _conditions(document: Document) -> Iterator[tuple[etree._Element, str, str]]:
    """(element holding the text, what it is, expression text) for every condition-like expression."""
    what = {"conditionExpression": "condition", "condition": "condition", "loopCardinality": "loop cardinality",
            "completionCondition": "completion condition", "loopCondition": "loop condition"}
    for element in document.root.iter(*(f"{{{NSMAP['bpmn']}}}{t}" for t in what)):
        if local(element) == "condition" and local(element.getparent()) != "conditionalEventDefinition":
            continue
        yield element, what[local(element)], _text(element)


def check_conditions(ctx: Context, document: Document) -> None:
    for element, what, text in _conditions(document):
        owner = _owner(element)
        language = (element.get("language") or "").strip().lower().rstrip("/")
        if language and any(language == f.rstrip("/") for f in _FEEL_LANGUAGES):
            text = text if text.startswith("=") else "=" + text
        elif language and language not in ("python", "juel", "text/x-python"):
            ctx.report(EXPRESSION_SYNTAX, document, element,
                       f"{describe(owner)}: {what} language {element.get('language')!r} is not supported; write it "
                       f"in Python, JUEL ${{...}} or FEEL =...")
            continue
        if not text:
            if local(owner) != "sequenceFlow":  # an empty flow condition is no condition: conditional-flows
                ctx.report(EXPRESSION_SYNTAX, document, element, f"{describe(owner)}: the {what} is empty")
            continue
        _check_expression(ctx, document, element, owner, what, text)


def check_mappings(ctx: Context, document: Document) -> None:
    for task in document.root.iter():
        if not isinstance(task.tag, str) or not task.get("id") or not children(task, "extensionElements"):
            continue
        io = read_io_mappings(task)
        for mapping in io.inputs + io.outputs:
            if mapping.source and expressions.dialect_of(mapping.source) != "python":
                _check_expression(ctx, document, task, task, f"mapping of {mapping.target!r}", mapping.source)
        for name, value in read_spiff_parameters(task).items():
            if value.strip():
                _check_expression(ctx, document, task, task, f"parameter {name!r}", value)


def _check_expression(ctx: Context, document: Document, element: etree._Element, owner: etree._Element,
                      what: str, text: str) -> None:
    try:
        expressions.check_syntax(text)
    except ExpressionError as exc:
        ctx.report(EXPRESSION_SYNTAX, document, element, f"{describe(owner)}: {what}: {exc.message}")
        return
    if ctx.trust_scripts or expressions.dialect_of(text) != "python":
        return
    refused = _refused_python(text)
    if refused:
        ctx.report(SANDBOX, document, element, f"{describe(owner)}: {what} uses {refused}, which the expression "
                                               f"sandbox refuses; {_TRUST_HINT}")


def _refused_python(text: str) -> str | None:
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        return None  # reported as a syntax problem
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id.startswith("__"):
            return f"the name {node.id!r}"
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            return f"the attribute {node.attr!r}"
    return None


def _scripts(document: Document) -> Iterator[tuple[etree._Element, etree._Element, str, str]]:
    """(owner, element holding the text, script format, script text) for script tasks and SpiffArena scripts."""
    for task in document.root.iter(f"{{{NSMAP['bpmn']}}}scriptTask"):
        zeebe = task.xpath("./bpmn:extensionElements/zeebe:script", namespaces=NSMAP)
        if zeebe:
            yield task, zeebe[0], "feel", zeebe[0].get("expression", "")
            continue
        for script in children(task, "script"):
            yield task, script, (task.get("scriptFormat") or "").strip().lower(), "".join(script.itertext())
    for tag in ("preScript", "postScript"):
        for script in document.root.iter(f"{{{NSMAP['spiffworkflow']}}}{tag}"):
            owner = _owner(script)
            yield owner, script, "python", "".join(script.itertext())


def check_scripts(ctx: Context, document: Document) -> None:
    for owner, element, script_format, text in _scripts(document):
        if script_format == "feel":
            if not text.strip():
                ctx.report(SCRIPT_SYNTAX, document, element, f"{describe(owner)}: the FEEL script has no expression")
                continue
            _check_expression(ctx, document, element, owner, "script expression",
                              text if text.strip().startswith("=") else "=" + text)
            continue
        if script_format not in PYTHON_SCRIPT_FORMATS:
            ctx.report(SCRIPT_SYNTAX, document, element,
                       f"{describe(owner)}: script format {script_format!r} is not supported; bpmn-runner runs "
                       f"Python scripts (and Camunda 8 FEEL script tasks)")
            continue
        source = textwrap.dedent(text)
        try:
            ast.parse(source, "<script>", "exec")
        except SyntaxError as exc:
            ctx.report(SCRIPT_SYNTAX, document, element, f"{describe(owner)}: script line {exc.lineno or 1}: "
                                                         f"{exc.msg}", line=_line_in(element, exc.lineno))
            continue
        except (RecursionError, MemoryError, ValueError):
            ctx.report(SCRIPT_SYNTAX, document, element,
                       f"{describe(owner)}: the script is nested too deeply or contains invalid characters")
            continue
        if ctx.trust_scripts:
            continue
        try:
            check_script(source)
        except ExpressionError as exc:
            at = _SCRIPT_LINE.match(exc.message)
            ctx.report(SANDBOX, document, element, f"{describe(owner)}: {_sandbox_message(exc.message)}",
                       line=_line_in(element, int(at.group(1)) if at else None))


def _sandbox_message(message: str) -> str:
    """The sandbox names the flag; a diagram checked with `validate` can also be trusted from pyproject.toml."""
    return message.replace("pass --trust-scripts to run scripts as full Python", _TRUST_HINT)


def _line_in(element: etree._Element, script_line: int | None) -> int | None:
    """The file line of a script's line N: the text starts on the line of its opening tag."""
    if element.sourceline is None or not script_line:
        return None
    return element.sourceline + script_line - 1


PER_DOCUMENT = (check_conditions, check_mappings, check_scripts)
