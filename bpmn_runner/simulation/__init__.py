"""Token simulation for analysts: walk any drawn diagram, deciding what nothing is bound to yet, and say so."""

from __future__ import annotations

from .simulator import Alternative, Simulator, UndecidableCondition

__all__ = ["Alternative", "Simulator", "UndecidableCondition"]
