"""What must never reach a user: Python exception text, object reprs and engine internals (bug 6)."""

from __future__ import annotations

import re

FOREIGN_TEXT = re.compile(
    r"\w+(Error|Exception)\(|<Element |object at 0x|Traceback|<[\w.]+ object>|\bNoneType\b|SpiffWorkflow|"
    r"\b(KeyError|AttributeError|TypeError|ValueError|IndexError|NameError|RecursionError|AssertionError|LxmlError|"
    r"XMLSyntaxError|ValidationException|WorkflowException)\b")
# A script's own Python error is the user's code speaking, quoted with its script line: that may stay.
_USER_SCRIPT = re.compile(r"script failed: script line \d+: ")


def foreign_text(text: str) -> list[str]:
    """The lines of `text` that show Python or engine internals to a user."""
    return [line for line in text.splitlines() if FOREIGN_TEXT.search(_USER_SCRIPT.split(line)[0])]
