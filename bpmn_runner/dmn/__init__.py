"""DMN 1.1-1.5 decisions: the model, and its evaluation with FEEL (decision tables, boxed expressions, BKMs,
decision services, item definitions, imports). Pure Python; the XML is read in `bpmn_runner.loader.dmn`."""

from __future__ import annotations

from .errors import DecisionError
from .evaluation import DecisionModel, DecisionResult, Evaluation
from .model import Decision, Definitions

__all__ = ["Decision", "DecisionError", "DecisionModel", "DecisionResult", "Definitions", "Evaluation"]
