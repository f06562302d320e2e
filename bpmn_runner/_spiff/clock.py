"""An injectable clock for SpiffWorkflow's timers (it calls `datetime.now` directly)."""

from __future__ import annotations

import contextvars
import time
from datetime import datetime

from SpiffWorkflow.bpmn.specs.event_definitions import timer as _timer_module

from ..clock import Clock, system_clock


_current: contextvars.ContextVar[Clock] = contextvars.ContextVar("bpmn_runner_clock", default=system_clock)


class _ClockDatetime(datetime):
    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        value = _current.get()()
        return value.astimezone(tz) if tz is not None else value


_timer_module.datetime = _ClockDatetime


def use_clock(clock: Clock) -> contextvars.Token[Clock]:
    """Make timers read `clock` in this context; returns a token for `reset_clock`."""
    return _current.set(clock)


def reset_clock(token: contextvars.Token[Clock]) -> None:
    _current.reset(token)


def now() -> datetime:
    return _current.get()()


def timestamp() -> float:
    """The current clock as epoch seconds: history, message and state-change times follow an injected clock."""
    clock = _current.get()
    return time.time() if clock is system_clock else clock().timestamp()  # called per task state change
