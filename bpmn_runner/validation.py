"""`validate` from Python: the findings of `bpmn_runner.lint` as `file:line: severity: message [rule-id]` lines."""

from __future__ import annotations

from pathlib import Path

from .lint import lint
from .registry import HandlerRegistry


def validate_paths(paths: list[Path], registry: HandlerRegistry, *, handlers_given: bool) -> list[str]:
    """One line per finding; no line with `: error: ` means the diagrams would run with these handlers."""
    return [str(f) for f in lint(list(paths), handlers=registry, handlers_given=handlers_given)]
