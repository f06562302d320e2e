"""The system clock and the clock type every part of bpmn-runner is handed (an `Environment` carries one)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

__all__ = ["Clock", "system_clock"]

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """Now, in UTC."""
    return datetime.now(timezone.utc)
