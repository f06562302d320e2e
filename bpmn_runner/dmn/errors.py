"""Errors of DMN evaluation: one line naming the decision and what to do."""

from __future__ import annotations

from ..errors import DecisionError

__all__ = ["DecisionError", "DmnProblem"]


class DmnProblem(Exception):
    """Raised inside evaluation; the decision being evaluated turns it into null plus a recorded error."""

    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
