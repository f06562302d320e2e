"""FEEL's exceptions (defined in bpmn_runner.errors): a syntax error names its column; evaluation errors are rare."""

from __future__ import annotations

from ..errors import FeelEvaluationError, FeelSyntaxError

__all__ = ["FeelEvaluationError", "FeelSyntaxError"]
