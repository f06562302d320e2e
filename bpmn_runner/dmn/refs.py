"""Decision references given as expressions (`${expr}` in Camunda 7, `=expr` in Camunda 8), chosen at run time."""

from __future__ import annotations


def is_dynamic_ref(ref: str) -> bool:
    """A decision id given as an expression, evaluated when the task runs."""
    text = ref.strip()
    return text.startswith("=") or "${" in text or "#{" in text
