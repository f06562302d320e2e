"""Expression rules: conditions, mappings and scripts parse in their dialect and stay inside the sandbox."""

from __future__ import annotations

import ast
import re
import textwrap
from typing import Iterator

from lxml import etree

from .. import expressions
from ..errors import ExpressionError
from ..expressions._limits import MAX_INT_BITS, MAX_LENGTH
from ..expressions.python_safe import _BLOCKED_FUNCTIONS as BLOCKED_FUNCTIONS  # the sandbox's own list
from ..expressions.scripts import check_script
from ..models import JAVASCRIPT_FORMATS, JAVASCRIPT_MARKER
from ..loader.dialects import read_io_mappings, read_spiff_parameters
from ..namespaces import NSMAP
from ..loader.documents import Document
from ._core import FLOW_NODES, Context, Rule, children, describe, local

EXPRESSION_SYNTAX = Rule("expression-syntax", "error", "every condition and mapping parses in its dialect (Python, "
                                                       "JUEL ${...} or FEEL =...)")
SCRIPT_SYNTAX = Rule("script-syntax", "error", "every script is JavaScript or Python (or a Camunda 8 FEEL script) "
                                               "that parses")
SANDBOX = Rule("sandbox", "error", "scripts and conditions use nothing the sandbox refuses (imports, dunder names, "
                                   "open(), str.format, endless loops, huge constants); off with --trust-scripts")
RULES = (EXPRESSION_SYNTAX, SCRIPT_SYNTAX, SANDBOX)

PYTHON_SCRIPT_FORMATS = {"", "python", "python3", "py", "text/x-python", "text/python", "application/x-python"}
_FEEL_LANGUAGES = ("feel", "https://www.omg.org/spec/dmn/20191111/feel", "http://www.omg.org/spec/feel/20140401")
_SCRIPT_LINE = re.compile(r"^script line (\d+):")
_TRUST_HINT = "pass --trust-scripts (or set trust_scripts = true under [tool.bpmn-runner]) to run it as full Python"


def _text(element: etree._Element) -> str:
    return "".join(element.itertext()).strip()


def _owner(element: etree._Element) -> etree._Element:
    """The flow node or sequence flow a condition or script belongs to, for the message."""
    node: etree._Element | None = element
    while node is not None and local(node) not in FLOW_NODES and local(node) not in ("sequenceFlow", "process"):
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
        elif language in JAVASCRIPT_FORMATS:
            text = JAVASCRIPT_MARKER + text
        elif language and language not in ("python", "juel", "text/x-python"):
            ctx.report(EXPRESSION_SYNTAX, document, element,
                       f"{describe(owner)}: {what} language {element.get('language')!r} is not supported; write it "
                       f"in JUEL ${{...}}, FEEL =..., JavaScript or Python")
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
        position = getattr(exc, "position", None)
        line = None
        if position is not None and element.sourceline is not None and text.strip("= \n") in (element.text or ""):
            line = element.sourceline + text[:position].count("\n")  # a multi-line FEEL text: the failing line
        ctx.report(EXPRESSION_SYNTAX, document, element, f"{describe(owner)}: {what}: {exc.message}", line=line)
        return
    if not ctx.trust_scripts:
        refused = sandbox_problem(text)
        if refused:
            ctx.report(SANDBOX, document, element, f"{describe(owner)}: {what} {refused}")


def sandbox_problem(text: str) -> str | None:
    """What the expression sandbox will refuse in a Python expression, found without running it."""
    if expressions.dialect_of(text) != "python":
        return None  # FEEL and JUEL cannot reach Python at all
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        return None  # reported as a syntax problem
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id.startswith("__"):
            return f"uses the name {node.id!r}, which the sandbox refuses; {_TRUST_HINT}"
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            return f"uses the attribute {node.attr!r}, which the sandbox refuses; {_TRUST_HINT}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in BLOCKED_FUNCTIONS:
            return f"calls {node.func.id}(), which the sandbox refuses; {_TRUST_HINT}"
    return _oversized(tree)


class _NotConstant(Exception):
    pass


class _TooBig(Exception):
    pass


def _oversized(tree: ast.AST) -> str | None:
    """A constant computation past the sandbox's size limits (`'a' * 10**10`, `9**9**9`): it can only fail."""
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp):
            try:
                _fold(node)
            except _TooBig:
                where = f"line {node.lineno}: " if isinstance(tree, ast.Module) else ""
                return (f"{where}computes {ast.unparse(node)[:60]!r}, a value larger than the sandbox allows, so "
                        f"it fails when it runs")
            except _NotConstant:
                continue
    return None


def _fold(node: ast.AST) -> object:
    """The value of a constant expression, estimating sizes before computing anything big."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bytes)):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _fold(node.operand)
        if isinstance(value, (int, float)):
            return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp):
        left, right = _fold(node.left), _fold(node.right)
        ints = all(isinstance(v, int) and not isinstance(v, bool) for v in (left, right))
        if isinstance(node.op, ast.Pow) and ints:
            bits_per_power = max(1, abs(left).bit_length() - 1)  # type: ignore[arg-type]
            if right > 0 and abs(left) > 1 and right * bits_per_power > MAX_INT_BITS:  # type: ignore[operator]
                raise _TooBig()
            return left ** right if right >= 0 else 0  # type: ignore[operator]
        if isinstance(node.op, ast.LShift) and ints:
            if right > MAX_INT_BITS:  # type: ignore[operator]
                raise _TooBig()
            return left << right if right >= 0 else 0  # type: ignore[operator]
        if isinstance(node.op, ast.Mult):
            if isinstance(left, (str, bytes)) and isinstance(right, int) or \
                    isinstance(right, (str, bytes)) and isinstance(left, int):
                text, count = (left, right) if isinstance(left, (str, bytes)) else (right, left)
                if len(text) * count > MAX_LENGTH:  # type: ignore[arg-type, operator]
                    raise _TooBig()
                return text * count  # type: ignore[operator]
            if ints:
                if abs(left).bit_length() + abs(right).bit_length() > MAX_INT_BITS:  # type: ignore[arg-type]
                    raise _TooBig()
                return left * right  # type: ignore[operator]
        if isinstance(node.op, (ast.Add, ast.Sub)) and ints:
            return left + right if isinstance(node.op, ast.Add) else left - right  # type: ignore[operator]
    raise _NotConstant()


def _string_format(tree: ast.AST) -> str | None:
    """RestrictedPython refuses `str.format` outright (format strings can reach attributes); f-strings work."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr in ("format", "format_map") and isinstance(node.func.value, ast.Constant) and \
                isinstance(node.func.value.value, str):
            return f"line {node.lineno}: str.{node.func.attr}() is refused by the sandbox; use an f-string"
    return None


def _endless_loop(tree: ast.AST) -> str | None:
    """`while True:` with no break, return or raise in it: the sandbox stops it after its time limit."""
    for node in ast.walk(tree):
        if isinstance(node, ast.While) and isinstance(node.test, ast.Constant) and node.test.value and \
                not any(isinstance(n, (ast.Break, ast.Return, ast.Raise)) for n in ast.walk(node)):
            return f"line {node.lineno}: the loop never ends (no break), so the sandbox stops the script"
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
        if script_format in JAVASCRIPT_FORMATS:
            try:
                expressions.check_syntax(JAVASCRIPT_MARKER + text)
            except ExpressionError as exc:
                ctx.report(SCRIPT_SYNTAX, document, element, f"{describe(owner)}: {exc.message}")
            continue
        if script_format not in PYTHON_SCRIPT_FORMATS:
            ctx.report(SCRIPT_SYNTAX, document, element,
                       f"{describe(owner)}: script format {script_format!r} is not supported; bpmn-runner runs "
                       f"JavaScript and Python scripts (and Camunda 8 FEEL script tasks)")
            continue
        source = textwrap.dedent(text)
        try:
            tree = ast.parse(source, "<script>", "exec")
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
        static = _endless_loop(tree) or _oversized(tree) or _string_format(tree)
        if static:
            ctx.report(SANDBOX, document, element, f"{describe(owner)}: script {static}",
                       line=_line_in(element, int(static.split(":", 1)[0].removeprefix("line "))))
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
