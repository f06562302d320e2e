"""Timer rules: timeDate, timeDuration and timeCycle hold ISO 8601 (or an expression) that parses."""

from __future__ import annotations

import ast
import re
from datetime import datetime

from lxml import etree

from .. import cron, expressions
from ..errors import ExpressionError
from ..loader.documents import Document
from ._core import Context, Rule, children, describe, local
from .expressions import SANDBOX, sandbox_problem

TIMER_ISO8601 = Rule("timer-iso8601", "error", "timer text is ISO 8601 that parses (PT5M, 2025-01-31T09:00Z, "
                                               "R3/PT10M), a cron cycle (0 0/5 * * * ?) or an expression that does")
RULES = (TIMER_ISO8601,)

_NUMBER = r"\d+(?:[.,]\d+)?"
_DURATION = re.compile(rf"^-?P(?!$)(?:{_NUMBER}Y)?(?:{_NUMBER}M)?(?:{_NUMBER}W)?(?:{_NUMBER}D)?"
                       rf"(?:T(?=\d)(?:{_NUMBER}H)?(?:{_NUMBER}M)?(?:{_NUMBER}S)?)?$")
_WEEK_DATE = re.compile(r"^\d{4}-?W\d{2}-?\d(T.+)?$")
_CRON = re.compile(r"^(\S+\s+){4,6}\S+$")
_ISO_LOOKING = re.compile(r"^(R\d*/|-?P|\d{4}-?\d)")
_EXAMPLES = {"timeDuration": "a duration such as PT5M or P1DT2H",
             "timeDate": "a date and time such as 2025-01-31T09:00:00Z",
             "timeCycle": "a cycle such as R3/PT10M or R/2025-01-31T09:00:00Z/P1D"}


def is_duration(text: str) -> bool:
    if not _DURATION.match(text):
        return False
    # SpiffWorkflow refuses weeks mixed with years, months or days (ISO 8601 keeps PnW on its own).
    date_part = text.split("T", 1)[0]
    return not ("W" in date_part and any(unit in date_part for unit in "YMD"))


def is_datetime(text: str) -> bool:
    if _WEEK_DATE.match(text):
        return True
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def is_cycle(text: str) -> bool:
    match = re.match(r"^R(\d*)/(.+)$", text)
    if not match:
        return False
    parts = match.group(2).split("/")
    if len(parts) == 1:
        return is_duration(parts[0])
    # start/duration, duration/end or start/end; two durations do not pin the cycle to a time
    return len(parts) == 2 and all(is_duration(p) or is_datetime(p) for p in parts) and \
        not all(is_duration(p) for p in parts)


def iso_problem(kind: str, text: str) -> str | None:
    """Why ISO text is wrong for this kind of timer, or None when it parses."""
    valid = {"timeDuration": is_duration, "timeDate": is_datetime, "timeCycle": is_cycle}[kind](text)
    if valid:
        return None
    if kind == "timeCycle" and cron.is_cron(text):
        try:
            cron.check_cron(text)
        except ExpressionError as exc:
            return exc.message
        return None
    return f"{text!r} is not ISO 8601 {_EXAMPLES[kind]}"


def timer_problem(kind: str, raw: str) -> str | None:
    """Check one timer text as the engine will read it: bare ISO, a FEEL/JUEL expression or a Python one."""
    text = raw.strip()
    if not text:
        return "is empty; say when the timer fires"
    if cron.is_cron(text):
        return iso_problem(kind, text) if kind == "timeCycle" else f"{text!r} is not ISO 8601 {_EXAMPLES[kind]}"
    if _ISO_LOOKING.match(text) and not any(c in text for c in " '\"()"):
        return iso_problem(kind, text)
    try:
        expressions.check_syntax(text)
    except ExpressionError as exc:
        return f"{text!r} is neither ISO 8601 ({_EXAMPLES[kind]}) nor an expression: {exc.message}"
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
