"""FEEL built-ins: conversion, boolean and string functions (DMN 1.5 10.3.4.1-10.3.4.3), plus Camunda's string extras."""

from __future__ import annotations

import base64
import datetime as dt
import re
import uuid
from decimal import Decimal
from typing import Any

from . import far_dates
from .far_dates import FarDate
from .functions import NotApplicable, builtin
from .regex import compile_xpath_regex, expand_replacement
from .temporal import (UTC, format_value, nanos_of, parse_date, parse_date_time, parse_duration, parse_time,
                       with_nanos)
from .values import DECIMAL, YearsMonthsDuration


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("not a string")
    return value


def _number(value: Any) -> Decimal:
    if not isinstance(value, Decimal) or isinstance(value, bool):
        raise TypeError("not a number")
    return value


def _integer(value: Any) -> int:
    number = _number(value)
    if number != number.to_integral_value():
        raise ValueError("not a whole number")
    return int(number)


def number_text(value: Decimal) -> str:
    if value == value.to_integral_value():
        return str(int(value))
    text = format(value.normalize(DECIMAL), "f")
    return text


def to_string(value: Any) -> str | None:
    """FEEL's string(): the text a FEEL value prints as (null stays null)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return number_text(value)
    if isinstance(value, (int, float)):
        return number_text(DECIMAL.create_decimal(repr(value)))
    if isinstance(value, list):
        return "[" + ", ".join(_nested_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_nested_text(v)}" for k, v in value.items()) + "}"
    return format_value(value)


def _nested_text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return to_string(value) or "null"


# ---- conversion (10.3.4.1) --------------------------------------------------------------------------------


@builtin("date", "from")
def _date_from(value: Any) -> Any:
    if isinstance(value, str):
        return parse_date(value)
    if isinstance(value, FarDate):
        return FarDate(value.inner.date(), value.shift) if value.is_date_time else value
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return None


@builtin("date", "year, month, day")
def _date_parts(year: Any, month: Any, day: Any) -> Any:
    month_number, day_number = _integer(month), _integer(day)
    return far_dates.make(_integer(year), lambda y: dt.date(y, month_number, day_number))


@builtin("date and time", "from")
def _date_time_from(value: Any) -> Any:
    if isinstance(value, str):
        return parse_date_time(value)
    if isinstance(value, FarDate):
        inner = value.inner
        moment = inner if isinstance(inner, dt.datetime) else dt.datetime(inner.year, inner.month, inner.day)
        return FarDate(moment, value.shift)
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    return None


@builtin("date and time", "date, time")
def _date_time_parts(day: Any, clock: Any) -> Any:
    if isinstance(day, dt.datetime) and isinstance(clock, str):
        raise NotApplicable()
    if not isinstance(day, dt.date) or not isinstance(clock, dt.time):
        return None
    return with_nanos(dt.datetime.combine(day.date() if isinstance(day, dt.datetime) else day, clock),
                      nanos_of(clock))


@builtin("date and time", "from, timezone")
def _date_time_in_zone(value: Any, timezone: Any) -> Any:
    """Camunda 8: the same instant in another zone, `date and time(now(), "Europe/Berlin")`."""
    from .temporal import zone
    target = zone(_text(timezone))
    if not isinstance(value, dt.datetime) or target is None:
        return None
    return (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).astimezone(target)


@builtin("time", "from")
def _time_from(value: Any) -> Any:
    if isinstance(value, str):
        return parse_time(value)
    if isinstance(value, FarDate):
        return _time_from(value.inner)
    if isinstance(value, dt.datetime):
        return value.timetz()
    if isinstance(value, dt.date):
        return dt.time(0, 0, 0, tzinfo=UTC)
    if isinstance(value, dt.time):
        return value
    return None


@builtin("time", "hour, minute, second, offset", required=3)
def _time_parts(hour: Any, minute: Any, second: Any, offset: Any = None) -> Any:
    seconds = _number(second)
    whole = int(seconds)
    micro = int((seconds - whole) * 1000000)
    tz = None
    if offset is not None:
        if not isinstance(offset, dt.timedelta):
            return None
        tz = dt.timezone(offset)
    return dt.time(_integer(hour), _integer(minute), whole, micro, tzinfo=tz)


@builtin("number", "from, grouping separator, decimal separator", required=1)
def _number_from(text: Any, grouping: Any = None, decimal_sep: Any = None) -> Any:
    text = _text(text)
    if grouping not in (None, " ", ",", ".") or decimal_sep not in (None, ",", "."):
        return None
    if grouping is not None and grouping == decimal_sep:
        return None
    if grouping:
        text = text.replace(grouping, "")
    if decimal_sep:
        text = text.replace(decimal_sep, ".")
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", text):
        return None
    return DECIMAL.create_decimal(text)


@builtin("string", "from")
def _string(value: Any) -> Any:
    return to_string(value)


@builtin("duration", "from")
def _duration(value: Any) -> Any:
    return parse_duration(_text(value))


@builtin("years and months duration", "from, to")
def _years_months(start: Any, end: Any) -> Any:
    """Whole months between the dates (of date-times, their dates: the TCK's 1121 expects
    2014-12-31T23:59:59 to 2016-12-31T00:00:01 to be P2Y), as Java's Period.between counts them."""
    start, end = _calendar_day(start), _calendar_day(end)
    if start is None or end is None:
        return None
    months = (end[0] - start[0]) * 12 + (end[1] - start[1])
    if months > 0 and end[2] < start[2]:
        months -= 1
    elif months < 0 and end[2] > start[2]:
        months += 1
    return YearsMonthsDuration(months)


def _calendar_day(value: Any) -> tuple[int, int, int] | None:
    inner, _ = far_dates.split(value)
    if not isinstance(inner, dt.date):
        return None
    return value.year, inner.month, inner.day


# ---- boolean (10.3.4.2) -----------------------------------------------------------------------------------


@builtin("not", "negand")
def _not(value: Any) -> Any:
    return (not value) if isinstance(value, bool) else None


@builtin("is defined", "value")
def _is_defined(value: Any) -> Any:
    return value is not None


# ---- string (10.3.4.3) ------------------------------------------------------------------------------------


@builtin("substring", "string, start position, length", required=2)
def _substring(text: Any, start: Any, length: Any = None) -> Any:
    text = _text(text)
    begin = int(_number(start))
    if begin == 0:
        return None
    index = begin - 1 if begin > 0 else max(0, len(text) + begin)
    if length is None:
        return text[index:]
    count = int(_number(length))
    if count < 0:
        return None
    return text[index:index + count]


@builtin("string length", "string")
def _string_length(text: Any) -> Any:
    return Decimal(len(_text(text)))


@builtin("upper case", "string")
def _upper(text: Any) -> Any:
    return _text(text).upper()


@builtin("lower case", "string")
def _lower(text: Any) -> Any:
    return _text(text).lower()


@builtin("substring before", "string, match")
def _before(text: Any, match: Any) -> Any:
    text, match = _text(text), _text(match)
    index = text.find(match)
    return "" if index < 0 else text[:index]


@builtin("substring after", "string, match")
def _after(text: Any, match: Any) -> Any:
    text, match = _text(text), _text(match)
    index = text.find(match)
    return "" if index < 0 else text[index + len(match):]


@builtin("replace", "input, pattern, replacement, flags", required=3)
def _replace(text: Any, pattern: Any, replacement: Any, flags: Any = None) -> Any:
    regex = compile_xpath_regex(_text(pattern), flags if flags is None else _text(flags))
    if regex.match(""):
        return None
    return regex.sub(expand_replacement(_text(replacement), "q" in (flags or "")), _text(text))


@builtin("contains", "string, match")
def _contains(text: Any, match: Any) -> Any:
    return _text(match) in _text(text)


@builtin("starts with", "string, match")
def _starts_with(text: Any, match: Any) -> Any:
    return _text(text).startswith(_text(match))


@builtin("ends with", "string, match")
def _ends_with(text: Any, match: Any) -> Any:
    return _text(text).endswith(_text(match))


@builtin("matches", "input, pattern, flags", required=2)
def _matches(text: Any, pattern: Any, flags: Any = None) -> Any:
    return compile_xpath_regex(_text(pattern), flags if flags is None else _text(flags)).search(_text(text)) is not None


@builtin("split", "string, delimiter")
def _split(text: Any, delimiter: Any) -> Any:
    regex = compile_xpath_regex(_text(delimiter), None)
    if regex.match(""):
        return None
    return regex.split(_text(text))


@builtin("string join", "list, delimiter", required=1)
def _string_join(items: Any, delimiter: Any = None) -> Any:
    if isinstance(items, str):
        items = [items]
    if not isinstance(items, list) or any(v is not None and not isinstance(v, str) for v in items):
        return None
    if delimiter is not None and not isinstance(delimiter, str):
        return None
    return (delimiter or "").join(v for v in items if v is not None)


@builtin("string join", "list, delimiter, prefix, suffix")
def _string_join_wrapped(items: Any, delimiter: Any, prefix: Any, suffix: Any) -> Any:
    """Camunda 8: string join(list, delimiter, prefix, suffix) (all four, as Camunda's docs define it)."""
    joined = _string_join(items, delimiter)
    if joined is None or any(v is not None and not isinstance(v, str) for v in (prefix, suffix)):
        return None
    return (prefix or "") + joined + (suffix or "")


# ---- Camunda 8 string extensions (docs.camunda.io "FEEL built-in functions: string") ------------------------


@builtin("extract", "string, pattern")
def _extract(text: Any, pattern: Any) -> Any:
    return [m.group(0) for m in compile_xpath_regex(_text(pattern), None).finditer(_text(text))]


@builtin("trim", "string")
def _trim(text: Any) -> Any:
    return _text(text).strip()


@builtin("uuid")
def _uuid() -> Any:
    return str(uuid.uuid4())


@builtin("to base64", "value")
def _to_base64(text: Any) -> Any:
    return base64.b64encode(_text(text).encode()).decode()


@builtin("is blank", "string")
def _is_blank(text: Any) -> Any:
    return _text(text).strip() == ""
