"""Internal detail-only exceptions of the expression layer (the public MissingVariableError is in errors.py)."""

from __future__ import annotations

from ..errors import MissingVariableError

__all__ = ["Missing", "MissingVariableError", "Problem"]


class Problem(Exception):
    """Raised inside a dialect with only the detail ("unknown function 'f'"); the public API adds the expression."""


class Missing(Problem):
    """Raised inside a dialect when a name or path is absent from the data."""

    def __init__(self, name: str) -> None:
        super().__init__(f"'{name}' is not in the process data" if any(c in name for c in ".[")
                         else f"unknown variable '{name}'")
        self.name = name
