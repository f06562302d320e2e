"""Drift rule: every input a registered handler declares is given by the task's mappings (rules in `bindings`)."""

from __future__ import annotations

from .bindings import HANDLER_INPUT_MISSING, check_handler_inputs

INPUT_MISSING = HANDLER_INPUT_MISSING
RULES = (INPUT_MISSING,)
PER_DOCUMENT = (check_handler_inputs,)
ACROSS_DOCUMENTS = ()
