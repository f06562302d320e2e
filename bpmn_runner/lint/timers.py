"""Timer rules: timeDate, timeDuration and timeCycle hold ISO 8601 (or an expression) that parses."""

from __future__ import annotations

import ast
import re

from lxml import etree

from .. import cron, expressions
from ..errors import ExpressionError
from ..loader.documents import Document
from ..timing import example, iso_problem
from ._core import Context, Rule, children, describe, local
from .expressions import SANDBOX, sandbox_problem

TIMER_ISO8601 = Rule("timer-iso8601", "error", "timer text is ISO 8601 that parses (PT5M, 2025-01-31T09:00Z, "
                                               "R3/PT10M), a cron cycle (0 0/5 * * * ?) or an expression that does")
RULES = (TIMER_ISO8601,)

_ISO_LOOKING = re.compile(r"^(R\d*/|-?P|\d{4}-?\d)")


def timer_problem(kind: str, raw: str) -> str | None:
    """Check one timer text as the engine will read it: bare ISO, a FEEL/JUEL expression or a Python one."""
    text = raw.strip()
    if not text:
        return "is empty; say when the timer fires"
    if cron.is_cron(text):
        return iso_problem(kind, text) if kind == "timeCycle" else f"{text!r} is not ISO 8601 {example(kind)}"
    if _ISO_LOOKING.match(text) and not any(c in text for c in " '\"()"):
        return iso_problem(kind, text)
    try:
        expressions.check_syntax(text)
    except ExpressionError as exc:
        return f"{text!r} is neither ISO 8601 ({example(kind)}) nor an expression: {exc.message}"
    if expressions.dialect_of(text) == "python":
        literal = _string_literal(text)
        if literal is not None:
            return iso_problem(kind, literal.strip())
    return None


def _string_literal(text: str) -> str | None:
    try:
        node = ast.parse(text, mode="eval").body
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        return None
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def check_timers(ctx: Context, document: Document) -> None:
    for definition in ctx.index(document).elements("timerEventDefinition"):
        event = definition.getparent()
        owner = event if event is not None and local(event).endswith("Event") else definition
        parts = children(definition, "timeDate", "timeDuration", "timeCycle")
        if not parts:
            ctx.report(TIMER_ISO8601, document, definition,
                       f"{describe(owner)} is a timer without timeDate, timeDuration or timeCycle; say when it fires")
            continue
        for part in parts[:1]:  # the engine reads the first one
            kind = etree.QName(part).localname
            text = "".join(part.itertext())
            problem = timer_problem(kind, text)
            if problem:
                ctx.report(TIMER_ISO8601, document, part, f"{describe(owner)}: {kind} {problem}")
            elif not ctx.trust_scripts and (refused := sandbox_problem(text)):
                ctx.report(SANDBOX, document, part, f"{describe(owner)}: {kind} {refused}")


PER_DOCUMENT = (check_timers,)
