"""Drift rule: every input a registered handler declares is given by the task's mappings (see modeler/drift.py)."""

from __future__ import annotations

from ..loader.dialects import BINDABLE_TAGS
from ..loader.documents import Document
from ..modeler.drift import HANDLER_INPUT_MISSING, input_gaps
from ._core import Context, Rule

INPUT_MISSING = Rule(HANDLER_INPUT_MISSING, "warning", "every input a registered handler declares is given by an "
                                                       "input mapping or SpiffArena parameter")
RULES = (INPUT_MISSING,)


def check_handler_inputs(ctx: Context, document: Document) -> None:
    if ctx.handlers is None or document.kind != "bpmn":
        return
    for element in document.root.iter(*BINDABLE_TAGS):
        for message in input_gaps(element, ctx.handlers):
            ctx.report(INPUT_MISSING, document, element, message)


PER_DOCUMENT = (check_handler_inputs,)
ACROSS_DOCUMENTS = ()
