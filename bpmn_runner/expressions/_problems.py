"""Errors of the expression layer: the public MissingVariableError and the internal detail-only exceptions."""

from __future__ import annotations

from typing import Any

from ..errors import ExpressionError


class MissingVariableError(ExpressionError):
    """An expression or script read a variable (or a key of one) that the process data does not have."""

    def __init__(self, message: str, name: str = "", **where: Any) -> None:
        super().__init__(message, **where)
        # The top-level variable name, or the dotted path when a key inside a present variable is absent.
        self.name = name


class Problem(Exception):
    """Raised inside a dialect with only the detail ("unknown function 'f'"); the public API adds the expression."""


class Missing(Problem):
    """Raised inside a dialect when a name or path is absent from the data."""

    def __init__(self, name: str) -> None:
        super().__init__(f"'{name}' is not in the process data" if any(c in name for c in ".[")
                         else f"unknown variable '{name}'")
        self.name = name
