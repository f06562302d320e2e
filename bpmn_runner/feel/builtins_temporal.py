"""FEEL built-ins on dates and times (DMN 1.5 10.3.4.7), plus Camunda's `now`, `today`, `last day of month`."""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import Decimal
from typing import Any

from .functions import builtin
from .semantics import equal, same_kind
from .temporal import time_offset
from .values import kind_of

_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


def _date(value: Any) -> dt.date:
    if not isinstance(value, dt.date):
        raise TypeError("not a date")
    return value


@builtin("is", "value1, value2")
def _is(first: Any, second: Any) -> Any:
    """Same type and same value, with times and date-times also in the same zone or offset."""
    if first is None or second is None:
        return first is None and second is None
    if kind_of(first) != kind_of(second) or not same_kind(first, second):
        return False
    if isinstance(first, (dt.datetime, dt.time)):
        # the TCK's 0103-feel-is-function: a zone and an offset are the same when the offset is the zone's there
        if first.tzinfo is None or second.tzinfo is None:
            return first.tzinfo is None and second.tzinfo is None and first == second
        if isinstance(first, dt.time):
            return first.replace(tzinfo=None) == second.replace(tzinfo=None) and (
                time_offset(first) == time_offset(second))
        return first.replace(tzinfo=None) == second.replace(tzinfo=None) and (
            first.utcoffset() == second.utcoffset())
    return equal(first, second) is True


@builtin("day of year", "date")
def _day_of_year(value: Any) -> Any:
    return Decimal(_date(value).timetuple().tm_yday)


@builtin("day of week", "date")
def _day_of_week(value: Any) -> Any:
    return _DAYS[_date(value).weekday()]


@builtin("month of year", "date")
def _month_of_year(value: Any) -> Any:
    return _MONTHS[_date(value).month - 1]


@builtin("week of year", "date")
def _week_of_year(value: Any) -> Any:
    return Decimal(_date(value).isocalendar()[1])


@builtin("last day of month", "date")
def _last_day_of_month(value: Any) -> Any:
    day = _date(value)
    return dt.date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])


@builtin("now")
def _now() -> Any:
    return dt.datetime.now(dt.timezone.utc).astimezone()


@builtin("today")
def _today() -> Any:
    return dt.date.today()
