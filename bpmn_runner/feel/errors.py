"""FEEL's exceptions: a syntax error names its column; evaluation errors are rare (FEEL mostly yields null)."""

from __future__ import annotations

from ..errors import DefinitionError, ExpressionError


class FeelSyntaxError(DefinitionError):
    """A FEEL expression or unary test does not parse; `.column` is 1-based, `.text` the source."""

    def __init__(self, problem: str, text: str, position: int) -> None:
        self.problem = problem
        self.text = text
        self.position = position
        self.column = position + 1
        super().__init__(f"FEEL syntax error at column {self.column}: {problem} in {_quoted(text)}")


class FeelEvaluationError(ExpressionError):
    """An evaluation that FEEL cannot answer with null (for example an external Java function call)."""


def _quoted(text: str) -> str:
    shown = text if len(text) <= 120 else text[:117] + "..."
    return repr(shown.replace("\n", " "))
