"""Dates and date-times with years outside Python's 1..9999 (FEEL allows -999,999,999..999,999,999).

The Gregorian calendar repeats every 400 years (146,097 days, weekdays included), so such a value is held as a
Python date or datetime `inner` whose year is shifted into range by a multiple of 400 years (`shift`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

CYCLE_YEARS = 400
CYCLE_DAYS = 146_097
MAX_YEAR = 999_999_999


@dataclass(frozen=True, slots=True)
class FarDate:
    """A FEEL date (or, when `inner` is a datetime, a date and time) whose year is `inner.year + shift`."""

    inner: dt.date
    shift: int

    @property
    def year(self) -> int:
        return self.inner.year + self.shift

    @property
    def is_date_time(self) -> bool:
        return isinstance(self.inner, dt.datetime)

    def __str__(self) -> str:
        from .temporal import format_value
        return format_value(self)


def make(year: int, build: Any) -> Any:
    """`build(year)` for an in-range year, else a FarDate built on a year shifted into range; None if invalid."""
    if abs(year) > MAX_YEAR:
        return None
    if 1 <= year <= 9999:
        return build(year)
    cycles = (year - 2000) // CYCLE_YEARS
    shift = cycles * CYCLE_YEARS
    return FarDate(build(year - shift), shift)


def normalise(inner: dt.date, shift: int) -> Any:
    """The plain Python value when the shifted year is in range again, else a FarDate."""
    year = inner.year + shift
    if 1 <= year <= 9999 and shift:
        return inner.replace(year=year)
    return FarDate(inner, shift) if shift else inner


def split(value: Any) -> tuple[dt.date, int]:
    """(inner, shift) of a FarDate or of a plain date/datetime (shift 0)."""
    if isinstance(value, FarDate):
        return value.inner, value.shift
    return value, 0


def align(a: Any, b: Any) -> tuple[dt.date, dt.date, int] | None:
    """Both values on the same shift, as plain Python values with the day difference of the shifts folded in."""
    inner_a, shift_a = split(a)
    inner_b, shift_b = split(b)
    if shift_a == shift_b:
        return inner_a, inner_b, 0
    return inner_a, inner_b, (shift_a - shift_b) // CYCLE_YEARS * CYCLE_DAYS
