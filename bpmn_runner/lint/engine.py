"""The engine's own verdict: load the executable processes as `run` would, and report what it refuses."""

from __future__ import annotations

from ..definitions import load_documents
from ..loader.documents import read_source
from ..errors import DefinitionError, UnsupportedElementError
from ..loader.normalize import collect_refusals
from ._core import Context, Finding, Rule

UNSUPPORTED_ELEMENT = Rule("unsupported-element", "error", "the executable processes use only elements bpmn-runner "
                                                           "can run (no complex gateways, update listeners, ...)")
ENGINE_LOAD = Rule("engine-load", "error", "the executable processes load into the engine as `run` loads them")
RULES = (UNSUPPORTED_ELEMENT, ENGINE_LOAD)


def check_engine_load(ctx: Context) -> None:
    documents = ctx.bpmn_documents()
    if ctx.failed_files or not documents:
        return
    # Files with no executable process are only documentation: what the engine says about them is a warning.
    executable = any(ctx.index(d).is_executable(p) for d in documents for p in ctx.index(d).processes())
    for document in documents:  # every refusal of a file, not only the first the engine stops at
        for refusal in collect_refusals(document.root, document.name):
            file, line = _where(ctx, refusal)
            if (file, refusal.element_id or "") in ctx.flagged:
                continue  # already reported by a rule above, in its own words
            message = refusal.message
            ctx.add(Finding(file, line, UNSUPPORTED_ELEMENT.severity if executable else "warning", message,
                            UNSUPPORTED_ELEMENT.id))
    try:
        # The engine loads the very bytes the rules read (fresh trees: loading normalizes them in place).
        load_documents([read_source(d.name, d.content, path=d.path) for d in ctx.documents], search_siblings=True)
    except DefinitionError as exc:
        rule = UNSUPPORTED_ELEMENT if isinstance(exc, UnsupportedElementError) else ENGINE_LOAD
        file, line = _where(ctx, exc)
        # The engine stops at its first problem; when the rules above found errors in that file, this is most
        # likely one of them in the engine's words, so it is left out.
        if (file, exc.element_id or "") in ctx.flagged or \
                any(f.file == file and f.severity == "error" for f in ctx.findings):
            return
        message = " ".join(exc.message.split())
        ctx.add(Finding(file, line, rule.severity if executable else "warning", message, rule.id))


def _where(ctx: Context, exc: DefinitionError) -> tuple[str, int]:
    """The file and line of an engine error; the element's line when the engine gave none."""
    if exc.file and exc.line:
        return exc.file, exc.line
    for document in ctx.documents:
        line = document.line_of(exc.element_id)
        if line:
            return document.name, line
    named = next((d for d in ctx.documents if d.name == exc.file), None)
    document = named or ctx.documents[0]
    first = ctx.index(document).processes()
    return document.name, exc.line or (first[0].sourceline if first else None) or 1
