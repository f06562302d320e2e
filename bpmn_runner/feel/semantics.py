"""FEEL operator semantics: equality, ordering, arithmetic and temporal arithmetic (DMN 1.5 10.3.2.3, 10.3.2.8)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from .temporal import UTC, seconds_of, time_offset, timedelta_from_seconds
from . import far_dates
from .far_dates import FarDate
from .values import DECIMAL, FeelFunction, Range, YearsMonthsDuration

_DATETIME, _DATE, _TIME, _TD = dt.datetime, dt.date, dt.time, dt.timedelta


def same_kind(a: Any, b: Any) -> bool:
    if isinstance(a, FarDate):
        a = a.inner
    if isinstance(b, FarDate):
        b = b.inner
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool)
    if isinstance(a, _DATETIME) or isinstance(b, _DATETIME):
        return isinstance(a, _DATETIME) and isinstance(b, _DATETIME)
    if isinstance(a, _TIME) or isinstance(b, _TIME):
        return isinstance(a, _TIME) and isinstance(b, _TIME)
    return type(a) is type(b) or (isinstance(a, dict) and isinstance(b, dict)) or (
        isinstance(a, list) and isinstance(b, list))


def _utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(UTC) if value.tzinfo is not None else value


def _time_key(value: dt.time) -> Any:
    """A comparable key for a time: seconds since midnight, shifted to UTC when the time has an offset."""
    seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
    if value.tzinfo is None:
        return (False, seconds)
    offset = time_offset(value)
    return (True, seconds - (offset.total_seconds() if offset is not None else 0))


def equal(a: Any, b: Any) -> bool | None:
    """FEEL `=`: null equals only null; values of different kinds give null (DMN 1.5 10.3.2.9.1)."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return a == b
    if not same_kind(a, b):
        return None
    if isinstance(a, FarDate) or isinstance(b, FarDate):
        order = compare(a, b)
        return None if order is None else order == 0
    if isinstance(a, list):
        if len(a) != len(b):
            return False
        result: bool | None = True
        for x, y in zip(a, b):
            same = equal(x, y)
            if same is False:
                return False
            if same is None:
                result = None
        return result
    if isinstance(a, dict):
        if set(a) != set(b):
            return False
        for key, value in a.items():
            same = equal(value, b[key])
            if same is not True:
                return same
        return True
    # DMN 1.5 10.3.2.3.5-6: a time's and a date-time's value is counted in whole seconds (the TCK's 0068
    # "value resolution is seconds"), so equality ignores fractions of a second; ordering does not.
    if isinstance(a, _DATETIME):
        if (a.tzinfo is None) != (b.tzinfo is None):
            return False
        return _utc(a).replace(microsecond=0) == _utc(b).replace(microsecond=0)
    if isinstance(a, _TIME):
        ka, kb = _time_key(a), _time_key(b)
        return ka[0] == kb[0] and int(ka[1] // 1) == int(kb[1] // 1)
    if isinstance(a, FeelFunction):
        return a is b
    return a == b


def _has_zone_id(value: dt.datetime) -> bool:
    return hasattr(value.tzinfo, "key")


def _zone_key(value: dt.datetime) -> Any:
    return getattr(value.tzinfo, "key", None)


def compare(a: Any, b: Any) -> int | None:
    """-1, 0 or 1 when a and b are ordered in FEEL (numbers, strings, temporals, same-kind durations), else None."""
    if a is None or b is None:
        return None
    try:
        if isinstance(a, Decimal) and isinstance(b, Decimal) or isinstance(a, str) and isinstance(b, str):
            return (a > b) - (a < b)
        if not same_kind(a, b) or isinstance(a, (bool, list, dict, Range, FeelFunction)):
            return None
        if isinstance(a, FarDate) or isinstance(b, FarDate):
            difference = subtract(a, b)
            if not isinstance(difference, _TD):
                return None
            return (difference > _TD(0)) - (difference < _TD(0))
        if isinstance(a, _DATETIME):
            if (a.tzinfo is None) != (b.tzinfo is None):
                return None
            x, y = _utc(a), _utc(b)
            return (x > y) - (x < y)
        if isinstance(a, _TIME):
            ka, kb = _time_key(a), _time_key(b)
            if ka[0] != kb[0]:
                return None
            return (ka > kb) - (ka < kb)
        return (a > b) - (a < b)
    except TypeError:
        return None


def less(a: Any, b: Any) -> bool | None:
    order = compare(a, b)
    return None if order is None else order < 0


# ---- arithmetic --------------------------------------------------------------------------------------------


def _add_months(value: dt.date, months: int) -> dt.date:
    total = value.year * 12 + (value.month - 1) + months
    year, month = divmod(total, 12)
    month += 1
    import calendar
    day = min(value.day, calendar.monthrange(year, month)[1])
    return value.replace(year=year, month=month, day=day)


def _shift(value: dt.datetime, delta: dt.timedelta) -> dt.datetime:
    if value.tzinfo is None:
        return value + delta
    return (value.astimezone(UTC) + delta).astimezone(value.tzinfo)


def _as_datetime(value: dt.date, tz: dt.tzinfo | None = None) -> dt.datetime:
    if isinstance(value, _DATETIME):
        return value
    return dt.datetime(value.year, value.month, value.day, tzinfo=tz)


def add(a: Any, b: Any) -> Any:
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return DECIMAL.add(a, b)
    if isinstance(a, str) and isinstance(b, str):
        return a + b
    if a is None or b is None:
        return None
    if isinstance(b, (_DATE, _TIME, FarDate)) and isinstance(a, (_TD, YearsMonthsDuration)):
        a, b = b, a
    if isinstance(a, FarDate):
        moved = add(a.inner, b)
        return None if moved is None else far_dates.normalise(moved, a.shift)
    if isinstance(a, _TD) and isinstance(b, _TD):
        return a + b
    if isinstance(a, YearsMonthsDuration) and isinstance(b, YearsMonthsDuration):
        return YearsMonthsDuration(a.months + b.months)
    if isinstance(a, _DATETIME):
        if isinstance(b, _TD):
            return _shift(a, b)
        if isinstance(b, YearsMonthsDuration):
            return _add_months(a, b.months)
        return None
    if isinstance(a, _DATE):
        if isinstance(b, _TD):
            return (_as_datetime(a) + b).date()
        if isinstance(b, YearsMonthsDuration):
            return _add_months(a, b.months)
        return None
    if isinstance(a, _TIME) and isinstance(b, _TD):
        moment = dt.datetime.combine(dt.date(2000, 1, 1), a.replace(tzinfo=None)) + b
        return moment.time().replace(tzinfo=a.tzinfo)
    return None


def negate(a: Any) -> Any:
    if isinstance(a, Decimal):
        return DECIMAL.minus(a)
    if isinstance(a, _TD):
        return -a
    if isinstance(a, YearsMonthsDuration):
        return YearsMonthsDuration(-a.months)
    return None


def subtract(a: Any, b: Any) -> Any:
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return DECIMAL.subtract(a, b)
    if a is None or b is None:
        return None
    if isinstance(a, (_TD, YearsMonthsDuration)) and isinstance(b, (_TD, YearsMonthsDuration)):
        return add(a, negate(b)) if type(a) is type(b) else None
    if isinstance(a, FarDate) or isinstance(b, FarDate):
        if isinstance(b, (_TD, YearsMonthsDuration)):
            return add(a, negate(b))
        if not isinstance(a, (_DATE, FarDate)) or not isinstance(b, (_DATE, FarDate)):
            return None
        inner_a, inner_b, days = far_dates.align(a, b)
        difference = subtract(inner_a, inner_b)
        return None if difference is None else difference + _TD(days=days)
    if isinstance(a, _DATE) and isinstance(b, _DATE):
        both_dates = not isinstance(a, _DATETIME) and not isinstance(b, _DATETIME)
        x, y = _as_datetime(a, None if both_dates else UTC), _as_datetime(b, None if both_dates else UTC)
        if (x.tzinfo is None) != (y.tzinfo is None):
            return None
        return _utc(x) - _utc(y)
    if isinstance(a, (_DATE, _TIME)) and isinstance(b, (_TD, YearsMonthsDuration)):
        if isinstance(a, _TIME) and isinstance(b, YearsMonthsDuration):
            return None
        return add(a, negate(b))
    if isinstance(a, _TIME) and isinstance(b, _TIME):
        ka, kb = _time_key(a), _time_key(b)
        if ka[0] != kb[0]:
            return None
        return timedelta_from_seconds(DECIMAL.create_decimal(repr(ka[1] - kb[1])))
    return None


def multiply(a: Any, b: Any) -> Any:
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return DECIMAL.multiply(a, b)
    if isinstance(a, Decimal):
        a, b = b, a
    if isinstance(b, Decimal):
        if isinstance(a, _TD):
            return timedelta_from_seconds(DECIMAL.multiply(seconds_of(a), b))
        if isinstance(a, YearsMonthsDuration):
            return YearsMonthsDuration(int(DECIMAL.multiply(Decimal(a.months), b)))
    return None


def divide(a: Any, b: Any) -> Any:
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return None if b == 0 else DECIMAL.divide(a, b)
    if isinstance(b, Decimal):
        if b == 0:
            return None
        if isinstance(a, _TD):
            return timedelta_from_seconds(DECIMAL.divide(seconds_of(a), b))
        if isinstance(a, YearsMonthsDuration):
            return YearsMonthsDuration(int(DECIMAL.divide(Decimal(a.months), b)))
        return None
    if isinstance(a, _TD) and isinstance(b, _TD):
        return None if not b else DECIMAL.divide(seconds_of(a), seconds_of(b))
    if isinstance(a, YearsMonthsDuration) and isinstance(b, YearsMonthsDuration):
        return None if not b.months else DECIMAL.divide(Decimal(a.months), Decimal(b.months))
    return None


def power(a: Any, b: Any) -> Any:
    if not (isinstance(a, Decimal) and isinstance(b, Decimal)):
        return None
    if b == b.to_integral_value() and abs(b) < 1_000_000:
        return DECIMAL.power(a, int(b))
    return DECIMAL.power(a, b)


ARITHMETIC = {"+": add, "-": subtract, "*": multiply, "/": divide, "**": power}


# ---- ranges and unary test matching ------------------------------------------------------------------------


def range_includes(r: Range, value: Any) -> bool | None:
    if value.__class__ is Decimal and r.start.__class__ is Decimal and r.end.__class__ is Decimal and not r.operator:
        if value < r.start or (value == r.start and not r.start_included):
            return False
        return value < r.end or (value == r.end and r.end_included)
    if value is None or r.operator == "null":
        return None
    if r.operator == "=":
        return equal(value, r.start)
    if r.operator == "!=":
        same = equal(value, r.start)
        return None if same is None else not same
    if r.start is not None:
        order = compare(r.start, value)
        if order is None:
            return None
        if order > 0 or (order == 0 and not r.start_included):
            return False
    if r.end is not None:
        order = compare(value, r.end)
        if order is None:
            return None
        if order > 0 or (order == 0 and not r.end_included):
            return False
    return True


def test_matches(test: Any, value: Any) -> bool | None:
    """Does `value` satisfy the evaluated unary test `test` (a range, a list of tests, or a value to equal)?"""
    if isinstance(test, Range):
        return range_includes(test, value)
    if isinstance(test, list) and not isinstance(value, list):
        # a list of tests (or of values): any one matching is enough; a test that cannot tell counts as no match
        return any(test_matches(item, value) is True for item in test)
    if isinstance(test, list) and isinstance(value, list):
        if equal(test, value):
            return True
        return any(equal(item, value) for item in test)
    if isinstance(test, bool) and not isinstance(value, bool):
        return test  # DMN 1.5 10.3.2.9.2: a boolean expression (not compared with the input) decides by itself
    return equal(test, value)
