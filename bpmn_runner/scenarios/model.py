"""The model of a scenario file (what `files` reads and `runner` runs), and the fake clock it runs on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from ..errors import ScenarioFileError  # noqa: F401  re-exported from its old home
from ..timing import fixed_duration

DEFAULT_NOW = datetime(2025, 1, 6, 9, 0, tzinfo=timezone.utc)
MAX_STEPS = 10_000


# --- the clock ----------------------------------------------------------------------------------------------

class FakeClock:
    """A clock that moves only when told to. `advance` adds one microsecond more than asked, so that a timer due
    exactly at the new time counts as due (the timer check is `due < now`)."""

    def __init__(self, start: datetime | None = None) -> None:
        start = start or DEFAULT_NOW
        self.current = start if start.tzinfo else start.replace(tzinfo=timezone.utc)

    def now(self) -> datetime:
        return self.current

    __call__ = now

    def advance(self, amount: timedelta | float | int | str) -> datetime:
        if isinstance(amount, str):
            amount = parse_duration(amount)
        if not isinstance(amount, timedelta):
            amount = timedelta(seconds=float(amount))
        if amount < timedelta(0):
            raise ValueError("the clock cannot move backwards")
        self.current += amount + timedelta(microseconds=1)
        return self.current

    def sleep(self, seconds: float) -> None:
        """Given to the engine as its `sleep`: waiting for a timer moves the fake clock, not real time."""
        self.current += timedelta(seconds=max(0.0, seconds))


#: An ISO 8601 duration without years or months, or a number of seconds, as a timedelta: timing's one parser.
parse_duration = fixed_duration


# --- the model of a scenario file ------------------------------------------------------------------------------

@dataclass
class Outcome:
    """What one call of a faked handler does: return a result, raise a BPMN error, or fail."""

    line: int
    returns: Any = None
    raises: tuple[str, str, dict[str, Any]] | None = None
    fails: str | None = None


@dataclass
class Fake:
    name: str
    outcomes: list[Outcome]
    line: int


@dataclass
class Step:
    """One `when` step."""

    kind: str                    # complete | message | signal | advance | fire
    line: int
    element: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    name: str = ""
    payload: dict[str, Any] = field(default_factory=dict)
    correlation: dict[str, Any] | None = None
    amount: timedelta = timedelta(0)
    text: str = ""               # the step as written, for messages
    after: str = ""
    at: str = ""


@dataclass
class Expect:
    line: int
    status: str | None = None
    path: list[str] | None = None
    exact_path: list[str] | None = None
    not_passed: list[str] = field(default_factory=list)
    end: str | None = None
    waits_at: list[str] = field(default_factory=list)
    data: dict[str, Any] | None = None
    calls: dict[str, int] = field(default_factory=dict)
    error: str | None = None


@dataclass
class Scenario:
    name: str
    line: int
    data: dict[str, Any]
    now: datetime
    fakes: dict[str, Fake]
    user_tasks: dict[str, list[dict[str, Any]]]
    steps: list[Step]
    expect: Expect


@dataclass
class ScenarioFile:
    path: Path
    name: str                    # as displayed (relative to the working directory when below it)
    diagrams: list[Path]
    process: str | None
    handler_specs: list[str]
    scenarios: list[Scenario]
