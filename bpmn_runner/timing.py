"""ISO 8601 as timers, retry cycles and scenario files write it: the one duration parser, and what a valid timer
date, duration or cycle is. Plain Python (L1): the loader, the linter, the durable runtime and the scenario files
all ask this module. Cron timer cycles (Camunda's Quartz syntax) are checked by `bpmn_runner.cron`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from . import cron
from .errors import ExpressionError

__all__ = ["Duration", "duration_seconds", "fixed_duration", "is_cycle", "is_datetime", "is_duration",
           "iso_problem", "looks_iso", "parse_duration"]

_NUMBER = r"\d+(?:[.,]\d+)?"
_DURATION = re.compile(rf"^(?P<sign>-)?P(?!$)(?:(?P<years>{_NUMBER})Y)?(?:(?P<months>{_NUMBER})M)?"
                       rf"(?:(?P<weeks>{_NUMBER})W)?(?:(?P<days>{_NUMBER})D)?"
                       rf"(?:T(?=\d)(?:(?P<hours>{_NUMBER})H)?(?:(?P<minutes>{_NUMBER})M)?"
                       rf"(?:(?P<seconds>{_NUMBER})S)?)?$")
_WEEK_DATE = re.compile(r"^\d{4}-?W\d{2}-?\d(T.+)?$")
_CYCLE = re.compile(r"^R(\d*)/(.+)$")
#: Text made only of what ISO 8601 durations, dates and cycles use (anything else is an expression to evaluate).
_ISO_SHAPE = re.compile(r"^(R\d*/.*|-?P(?=\d|T\d)[\dYMWDTHS.,]*|\d{4}-\d{2}-\d{2}([T ][\d:.]+)?(Z|[+-]\d{2}:?\d{2})?)$")
_EXAMPLES = {"timeDuration": "a duration such as PT5M or P1DT2H",
             "timeDate": "a date and time such as 2025-01-31T09:00:00Z",
             "timeCycle": "a cycle such as R3/PT10M or R/2025-01-31T09:00:00Z/P1D"}


@dataclass(frozen=True)
class Duration:
    """An ISO 8601 duration, unit by unit as written (`P1Y2M3W4DT5H6M7.5S`)."""

    years: float = 0.0
    months: float = 0.0
    weeks: float = 0.0
    days: float = 0.0
    hours: float = 0.0
    minutes: float = 0.0
    seconds: float = 0.0
    negative: bool = False

    @property
    def has_calendar_units(self) -> bool:
        """Years and months have no fixed length."""
        return bool(self.years or self.months)

    def total_seconds(self, *, month_days: float = 30, year_days: float = 365) -> float:
        """Seconds, counting a month as `month_days` and a year as `year_days` days."""
        days = self.years * year_days + self.months * month_days + self.weeks * 7 + self.days
        total = ((days * 24 + self.hours) * 60 + self.minutes) * 60 + self.seconds
        return -total if self.negative else total


def parse_duration(text: str) -> Duration:
    """Parse `PT10M`, `P1DT2H`, `-P1D`, `p2w` (case and a decimal comma are accepted); ValueError otherwise."""
    raw = str(text).strip()
    match = _DURATION.match(raw.upper())
    if not match:
        raise ValueError(f"{raw!r} is not an ISO 8601 duration such as PT5M or P1DT2H")
    values = {k: float(v.replace(",", ".")) if v else 0.0 for k, v in match.groupdict().items() if k != "sign"}
    return Duration(**values, negative=match.group("sign") == "-")


def duration_seconds(text: str) -> float:
    """A positive ISO 8601 duration in seconds (a month counts 30 days, a year 365), as retry cycles use it."""
    duration = parse_duration(text)
    if duration.negative:
        raise ValueError(f"{text!r} is a negative duration; a wait must be positive")
    return duration.total_seconds()


def fixed_duration(text: str) -> timedelta:
    """A number of seconds, or an ISO 8601 duration without years or months (`PT2H`, `P1DT30M`, `P2W`)."""
    raw = str(text).strip()
    try:
        return timedelta(seconds=float(raw))
    except ValueError:
        pass
    problem = (f"{raw!r} is not a duration; write ISO 8601 like PT30M, PT2H, P1D or P1DT12H "
               f"(years and months are not fixed lengths: use days)")
    try:
        duration = parse_duration(raw)
    except ValueError:
        raise ValueError(problem) from None
    if duration.has_calendar_units or duration.negative:
        raise ValueError(problem)
    return timedelta(seconds=duration.total_seconds())


def is_duration(text: str) -> bool:
    """Whether a timer can wait this long: ISO 8601 that parses, without weeks mixed with years, months or days
    (ISO 8601 keeps PnW on its own, and the engine refuses the mix). Timer text is case-sensitive."""
    if text != text.upper():
        return False
    try:
        parse_duration(text)
    except ValueError:
        return False
    date_part = text.upper().split("T", 1)[0]
    return not ("W" in date_part and any(unit in date_part for unit in "YMD"))


def is_datetime(text: str) -> bool:
    """An ISO 8601 date and time (or week date) a timer can fire at."""
    if _WEEK_DATE.match(text):
        return True
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def is_cycle(text: str) -> bool:
    """`R3/PT10M`, `R/start/duration`, `R/duration/end` or `R/start/end`."""
    match = _CYCLE.match(text)
    if not match:
        return False
    parts = match.group(2).split("/")
    if len(parts) == 1:
        return is_duration(parts[0])
    # two durations do not pin the cycle to a time
    return len(parts) == 2 and all(is_duration(p) or is_datetime(p) for p in parts) and \
        not all(is_duration(p) for p in parts)


def looks_iso(text: str) -> bool:
    """Text made only of ISO 8601 duration, date and cycle characters: meant as ISO, not as an expression."""
    return bool(_ISO_SHAPE.match(text.strip()))


def iso_problem(kind: str, text: str) -> str | None:
    """Why ISO text is wrong for a `timeDuration`, `timeDate` or `timeCycle`, or None when it is right."""
    valid = {"timeDuration": is_duration, "timeDate": is_datetime, "timeCycle": is_cycle}[kind](text)
    if valid:
        return None
    if kind == "timeCycle" and cron.is_cron(text):
        try:
            cron.check_cron(text)
        except ExpressionError as exc:
            return exc.message
        return None
    return f"{text!r} is not ISO 8601 {_EXAMPLES[kind]}"


def example(kind: str) -> str:
    """What a `timeDuration`, `timeDate` or `timeCycle` looks like, for messages."""
    return _EXAMPLES[kind]
