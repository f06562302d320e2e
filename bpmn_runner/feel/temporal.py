"""FEEL dates, times, date-times and durations: literals, string forms and properties (DMN 1.5 10.3.2.3.4-7)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import far_dates
from .values import DECIMAL, FeelFunction, Range, YearsMonthsDuration

UTC = dt.timezone.utc
_DATE = re.compile(r"(-?(?:[1-9]\d{4,8}|\d{4}))-(\d\d)-(\d\d)$")
_TIME = re.compile(r"(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:(Z)|([+-])(\d\d):(\d\d)(?::(\d\d))?|@(.+))?$")
_DAY_TIME = re.compile(r"(-)?P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d*)?)S)?)?$")
_YEAR_MONTH = re.compile(r"(-)?P(?:(\d+)Y)?(?:(\d+)M)?$")
_MICRO = dt.timedelta(microseconds=1)


class PreciseTime(dt.time):
    """A time with `nanos` (0-999) below its microseconds: kept from the literal for display and `string()`;
    arithmetic and comparison work to the microsecond."""

    __slots__ = ("nanos",)


class PreciseDateTime(dt.datetime):
    """A date and time with `nanos` below its microseconds (see PreciseTime)."""

    __slots__ = ("nanos",)


def with_nanos(value: Any, nanos: int) -> Any:
    """`value` (a time or datetime) carrying `nanos` extra nanoseconds; the plain value when nanos is 0."""
    if not nanos:
        return value
    if isinstance(value, dt.datetime):
        precise: Any = PreciseDateTime(value.year, value.month, value.day, value.hour, value.minute, value.second,
                                       value.microsecond, value.tzinfo)
    else:
        precise = PreciseTime(value.hour, value.minute, value.second, value.microsecond, value.tzinfo)
    precise.nanos = nanos
    return precise


def nanos_of(value: Any) -> int:
    return getattr(value, "nanos", 0)


def parse_date(text: str) -> Any:
    """A date; years beyond 1..9999 give a FarDate."""
    match = _DATE.match(text)
    if not match:
        return None
    month, day = int(match[2]), int(match[3])
    try:
        return far_dates.make(int(match[1]), lambda year: dt.date(year, month, day))
    except ValueError:
        return None


@lru_cache(maxsize=256)
def zone(name: str) -> dt.tzinfo | None:
    if name == "Z":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def time_offset(value: dt.time) -> dt.timedelta | None:
    """A time's offset from UTC; for a time in a zone with summer time, the zone's standard offset (a time has no
    date to choose between the two)."""
    if value.tzinfo is None:
        return None
    offset = value.utcoffset()
    if offset is None:
        winter = dt.datetime(2000, 1, 1)
        offset = value.tzinfo.utcoffset(winter)
        saving = value.tzinfo.dst(winter)
        if offset is not None and saving:
            offset -= saving
    return offset


def parse_time(text: str) -> dt.time | None:
    match = _TIME.match(text)
    if not match:
        return None
    hour, minute, second = int(match[1]), int(match[2]), int(match[3])
    micro = int((match[4] or "0")[:6].ljust(6, "0"))
    nanos = int((match[4] or "")[6:9].ljust(3, "0"))
    tz: dt.tzinfo | None = None
    if match[5]:
        tz = UTC
    elif match[6]:
        offset = dt.timedelta(hours=int(match[7]), minutes=int(match[8]), seconds=int(match[9] or 0))
        if offset > dt.timedelta(hours=18):
            return None
        tz = dt.timezone(-offset if match[6] == "-" else offset)
    elif match[10]:
        tz = zone(match[10])
        if tz is None:
            return None
    if hour == 24 and minute == 0 and second == 0 and micro == 0:
        hour = 0
    try:
        return with_nanos(dt.time(hour, minute, second, micro, tzinfo=tz), nanos)
    except ValueError:
        return None


def parse_date_time(text: str) -> dt.datetime | dt.date | None:
    """A `date and time` literal; a bare date gives midnight of that date."""
    date_part, _, time_part = text.partition("T")
    day = parse_date(date_part)
    clock = parse_time(time_part) if time_part else dt.time(0)
    if day is None or clock is None:
        return None
    inner, shift = far_dates.split(day)
    moment = with_nanos(dt.datetime.combine(inner, clock), nanos_of(clock))
    if time_part.startswith("24:"):
        moment += dt.timedelta(days=1)
    return far_dates.FarDate(moment, shift) if shift else moment


def parse_duration(text: str) -> dt.timedelta | YearsMonthsDuration | None:
    if match := _YEAR_MONTH.match(text):
        if match[2] is None and match[3] is None:
            return None
        months = int(match[2] or 0) * 12 + int(match[3] or 0)
        return YearsMonthsDuration(-months if match[1] else months)
    if match := _DAY_TIME.match(text):
        if text.endswith("T") or all(match[i] is None for i in range(2, 6)):
            return None
        try:
            seconds = Decimal(match[5] or 0)
            delta = dt.timedelta(days=int(match[2] or 0), hours=int(match[3] or 0), minutes=int(match[4] or 0),
                                 seconds=int(seconds), microseconds=int((seconds % 1) * 1000000))
        except OverflowError:
            return None
        return -delta if match[1] else delta
    return None


def parse_temporal(text: str) -> Any:
    """The `@"..."` literal: a date, time, date and time or duration by the shape of the string."""
    if text.startswith(("P", "-P")):
        return parse_duration(text)
    if "T" in text.partition("@")[0]:
        return parse_date_time(text)
    if _DATE.match(text):
        return parse_date(text)
    return parse_time(text)


# ---- string forms -------------------------------------------------------------------------------------------


def _offset_text(tz: dt.tzinfo | None, moment: dt.datetime | None) -> str:
    if tz is None:
        return ""
    if isinstance(tz, ZoneInfo):
        return "@" + tz.key
    offset = tz.utcoffset(moment)
    if offset is None:
        return ""
    if offset == dt.timedelta(0):
        return "Z"
    sign = "-" if offset < dt.timedelta(0) else "+"
    seconds = int(abs(offset).total_seconds())
    text = f"{sign}{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"
    return text + (f":{seconds % 60:02d}" if seconds % 60 else "")


def _clock_text(value: dt.time | dt.datetime) -> str:
    text = f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
    nanos = nanos_of(value)
    if value.microsecond or nanos:
        text += ("." + f"{value.microsecond:06d}" + (f"{nanos:03d}" if nanos else "")).rstrip("0")
    return text


def _date_text(value: dt.date, shift: int = 0) -> str:
    year = value.year + shift
    return f"{'-' if year < 0 else ''}{abs(year):04d}-{value.month:02d}-{value.day:02d}"


def duration_text(value: dt.timedelta) -> str:
    micros = value // _MICRO
    sign = "-" if micros < 0 else ""
    micros = abs(micros)
    days, rest = divmod(micros, 86_400_000_000)
    hours, rest = divmod(rest, 3_600_000_000)
    minutes, rest = divmod(rest, 60_000_000)
    seconds, micro = divmod(rest, 1_000_000)
    text = f"{sign}P" + (f"{days}D" if days else "")
    clock = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    if seconds or micro:
        clock += (f"{seconds}." + f"{micro:06d}".rstrip("0") if micro else str(seconds)) + "S"
    if clock:
        text += "T" + clock
    return "PT0S" if text in ("P", "-P") else text


def format_value(value: Any) -> str:
    """FEEL's `string()` of a temporal value, duration or range."""
    if isinstance(value, far_dates.FarDate):
        inner = value.inner
        if isinstance(inner, dt.datetime):
            return _date_text(inner, value.shift) + "T" + _clock_text(inner) + _offset_text(inner.tzinfo, inner)
        return _date_text(inner, value.shift)
    if isinstance(value, dt.datetime):
        return _date_text(value) + "T" + _clock_text(value) + _offset_text(value.tzinfo, value)
    if isinstance(value, dt.date):
        return _date_text(value)
    if isinstance(value, dt.time):
        return _clock_text(value) + _offset_text(value.tzinfo, None)
    if isinstance(value, dt.timedelta):
        return duration_text(value)
    if isinstance(value, YearsMonthsDuration):
        sign = "-" if value.months < 0 else ""
        years, months = divmod(abs(value.months), 12)
        text = (f"{years}Y" if years else "") + (f"{months}M" if months or not years else "")
        return f"{sign}P{text}"
    if isinstance(value, Range):
        from .builtins_core import to_string
        if value.operator in ("<", "<="):
            return f"{value.operator} {to_string(value.end)}"
        if value.operator in (">", ">=", "=", "!="):
            return f"{value.operator} {to_string(value.start)}"
        start = "null" if value.start is None else to_string(value.start)
        end = "null" if value.end is None else to_string(value.end)
        return f"{'[' if value.start_included else '('}{start}..{end}{']' if value.end_included else ')'}"
    if isinstance(value, FeelFunction):
        return repr(value)
    return str(value)


# ---- properties (DMN 1.5 10.3.2.3.x "properties") ----------------------------------------------------------


def _offset_of(value: dt.time | dt.datetime) -> dt.timedelta | None:
    if value.tzinfo is None:
        return None
    if isinstance(value, dt.time):
        if isinstance(value.tzinfo, ZoneInfo):
            return value.tzinfo.utcoffset(dt.datetime(2000, 1, 1))
        return value.utcoffset()
    return value.utcoffset()


def _seconds(value: dt.time | dt.datetime) -> Decimal:
    whole = Decimal(value.second)
    return whole + Decimal(value.microsecond) / Decimal(1000000) if value.microsecond else whole


def _duration_parts(value: dt.timedelta) -> tuple[int, int, int, Decimal]:
    micros = value // _MICRO
    sign = -1 if micros < 0 else 1
    days, rest = divmod(abs(micros), 86_400_000_000)
    hours, rest = divmod(rest, 3_600_000_000)
    minutes, rest = divmod(rest, 60_000_000)
    seconds = Decimal(rest) / Decimal(1000000)
    return sign * days, sign * hours, sign * minutes, sign * seconds


def property_of(value: Any, name: str) -> Any:
    """`value.name` for a date, time, date and time, duration or range; None when there is no such property."""
    if isinstance(value, far_dates.FarDate):
        return Decimal(value.year) if name == "year" else property_of(value.inner, name)
    if isinstance(value, (dt.date, dt.datetime)) and name in ("year", "month", "day", "weekday"):
        number = value.isoweekday() if name == "weekday" else getattr(value, name)
        return Decimal(number)
    if isinstance(value, (dt.datetime, dt.time)):
        if name in ("hour", "minute"):
            return Decimal(getattr(value, name))
        if name == "second":
            return _seconds(value)
        if name == "time offset":
            return _offset_of(value)
        if name == "timezone":
            return value.tzinfo.key if isinstance(value.tzinfo, ZoneInfo) else None
        return None
    if isinstance(value, dt.timedelta):
        days, hours, minutes, seconds = _duration_parts(value)
        parts = {"days": days, "hours": hours, "minutes": minutes}
        if name == "seconds":
            return seconds
        return Decimal(parts[name]) if name in parts else None
    if isinstance(value, YearsMonthsDuration):
        sign = -1 if value.months < 0 else 1
        if name == "years":
            return Decimal(sign * (abs(value.months) // 12))
        if name == "months":
            return Decimal(sign * (abs(value.months) % 12))
        return None
    if isinstance(value, Range):
        return {"start": value.start, "end": value.end, "start included": value.start_included,
                "end included": value.end_included}.get(name)
    return None


def seconds_of(value: dt.timedelta) -> Decimal:
    """A duration as a Decimal number of seconds (exact to the microsecond)."""
    return DECIMAL.divide(Decimal(value // _MICRO), Decimal(1000000))


def timedelta_from_seconds(seconds: Decimal) -> dt.timedelta:
    micros = int(DECIMAL.multiply(seconds, Decimal(1000000)).to_integral_value())
    return dt.timedelta(microseconds=micros)
