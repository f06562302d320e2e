"""`validate` as a linter: rules with ids, one finding per problem with its file and line.

    findings = lint(["processes/"], handlers=registry, handlers_given=True)
    for finding in findings:
        print(finding)            # processes/x.bpmn:12: warning: ... [no-implicit-split]

Rule families live in one module each (`xml`, `structure`, `references`, `bindings`, `expressions`, `timers`,
`engine`, `drift` for declared handler inputs, and `dmn` for decision models); every module lists its rules in `RULES`, its per-file
checks in `PER_DOCUMENT` and its checks over all loaded files in `ACROSS_DOCUMENTS`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Iterable

from ..errors import InvalidOperationError
from ..registry import HandlerRegistry
from . import bindings, compensation, dmn, drift, engine, expressions, forms, references, structure, timers, xml
from ._core import SEVERITIES, Context, Finding, Rule

__all__ = ["RULES", "Finding", "Rule", "check_rule_ids", "exit_code", "lint", "render_json", "render_text", "summary"]

_FAMILIES = (xml, structure, references, compensation, bindings, drift, expressions, timers, forms, engine, dmn)
RULES: dict[str, Rule] = {rule.id: rule for family in _FAMILIES for rule in family.RULES}
INTERNAL_RULE = "internal"  # a bug in a rule: reported as a finding so that one bad rule never hides the others


def check_rule_ids(ids: Iterable[str], *, where: str) -> None:
    """A misspelt rule id would silently disable nothing, so it is a usage error."""
    unknown = sorted(set(ids) - set(RULES))
    if unknown:
        raise InvalidOperationError(f"{where}: unknown rule id {', '.join(map(repr, unknown))}; the rules are listed "
                                    f"in the README under 'Validate: the rules'")


def lint(paths: Iterable[str | Path], *, handlers: HandlerRegistry | None = None, handlers_given: bool = False,
         trust_scripts: bool = False, disable: Iterable[str] = ()) -> list[Finding]:
    """Every finding for these files and folders, in file order then line order. Never raises for a bad diagram."""
    disabled = frozenset(disable)
    check_rule_ids(disabled, where="--disable")
    ctx = Context(handlers=handlers, handlers_given=handlers_given, trust_scripts=trust_scripts)
    path_list = list(paths)
    xml.read_all(path_list, ctx)
    for document in ctx.bpmn_documents():
        for family in _FAMILIES:
            for check in getattr(family, "PER_DOCUMENT", ()):
                _guarded(ctx, document.name, check.__name__, lambda c=check, d=document: c(ctx, d))
    for family in _FAMILIES:
        for across in getattr(family, "ACROSS_DOCUMENTS", ()):
            where = ctx.documents[0].name if ctx.documents else str(path_list[0]) if path_list else "?"
            _guarded(ctx, where, across.__name__, lambda c=across: c(ctx))
    if ctx.documents:  # last: it skips what the rules above already reported at the same line
        _guarded(ctx, ctx.documents[0].name, "engine load", lambda: engine.check_engine_load(ctx))
    return _ordered([f for f in ctx.findings if f.rule not in disabled], ctx)


def _guarded(ctx: Context, file: str, name: str, check: Callable[[], None]) -> None:
    try:
        check()
    except RecursionError:
        ctx.add(Finding(file, 1, "error", f"the diagram is nested too deeply for the {name} check", INTERNAL_RULE))
    except Exception as exc:  # a bug in one rule must not hide the findings of the others
        ctx.add(Finding(file, 1, "error", f"internal error in the {name} check ({type(exc).__name__}: {exc}); "
                                          f"please report it with the diagram", INTERNAL_RULE))


def _ordered(findings: list[Finding], ctx: Context) -> list[Finding]:
    order = {name: rank for rank, name in enumerate(dict.fromkeys(ctx.files))}
    unique = list(dict.fromkeys(findings))
    return sorted(unique, key=lambda f: (order.get(f.file, len(order)), f.file, f.line,
                                         SEVERITIES.index(f.severity), f.rule))


def summary(findings: list[Finding]) -> dict[str, int]:
    return {severity: sum(1 for f in findings if f.severity == severity) for severity in SEVERITIES}


def exit_code(findings: list[Finding], *, strict: bool = False) -> int:
    """3 when there is an error (or, with strict, a warning); infos never fail a run."""
    counts = summary(findings)
    return 3 if counts["error"] or (strict and counts["warning"]) else 0


def render_text(findings: list[Finding]) -> str:
    return "\n".join(str(f) for f in findings)


def render_json(findings: list[Finding]) -> str:
    counts = summary(findings)
    return json.dumps({"findings": [f.to_json() for f in findings], "errors": counts["error"],
                       "warnings": counts["warning"], "infos": counts["info"]}, ensure_ascii=False)
