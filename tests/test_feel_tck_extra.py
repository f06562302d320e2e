"""FEEL cases from the DMN TCK's level-3 directories that are not copied beside the repository (dmn-tck/tck,
Apache-2.0: 0021-singleton-list, 0093-feel-at-literals, 0103-feel-is-function,
1121-feel-years-and-months-duration-function), where the engine used to differ from the TCK."""

from __future__ import annotations

import datetime as dt

import pytest

from bpmn_runner.feel import YearsMonthsDuration, evaluate


@pytest.mark.parametrize("text, expected", [
    # a zone id and an offset are the same when the zone has that offset then (datetime_016/017, time_006/012)
    ('is(@"2021-04-02T23:00:00@Australia/Melbourne", @"2021-04-02T23:00:00+11:00")', True),
    ('is(@"2021-10-02T23:00:00@Australia/Melbourne", @"2021-10-02T23:00:00+10:00")', True),
    ('is(@"2002-04-02T23:00:00@Australia/Melbourne", @"2002-04-02T23:00:00@Australia/Sydney")', True),
    ('is(@"23:00:50@Australia/Melbourne", @"23:00:50+10:00")', True),
    ('is(@"23:00:50@Etc/GMT", @"23:00:50Z")', True),
    ('is(@"2002-04-02T12:00:00-01:00", @"2002-04-02T17:00:00+04:00")', False),
    ('is(@"23:00:50", @"23:00:50Z")', False),
    ('is(@"P0Y", @"P0D")', False),
])
def test_is_compares_offsets_not_zone_names(text: str, expected: bool) -> None:
    """DMN 1.5 10.3.4.10 `is`: same kind and value, date-times and times also with the same offset."""
    assert evaluate(text) is expected


def test_an_invalid_at_literal_is_null() -> None:
    """0093 test_001: `@"foo"` stands for a conversion that fails, so it is null, not a syntax error."""
    assert evaluate('@"foo" = null') is True
    assert evaluate('string(@"23:00:50@Etc/GMT")') == "23:00:50@Etc/GMT", "a time in a zone whose name has a T"
    assert isinstance(evaluate('@"23:00:50@Etc/GMT"'), dt.time)


@pytest.mark.parametrize("text, months", [
    ('years and months duration(date and time("2014-12-31T23:59:59"), date and time("2016-12-31T00:00:01"))', 24),
    ('years and months duration(date and time("2011-08-25T15:59:59@Europe/Paris"), '
     'date and time("2015-08-25T15:20:59+02:00"))', 48),
    ('years and months duration(date and time("-2016-01-30T09:05:00"), date and time("-2017-02-28T02:02:02"))', -11),
    ('years and months duration(date and time("2014-12-31T23:59:59"), date and time("-2019-10-01T12:32:59"))',
     -(4033 * 12 + 2)),
    ('years and months duration(date("2013-08-24"), date("2011-12-22"))', -20),
])
def test_years_and_months_between_calendar_days(text: str, months: int) -> None:
    """1121: whole months between the dates of the two values (the time of day does not count), any year."""
    assert evaluate(text) == YearsMonthsDuration(months)


def test_a_singleton_list_is_unwrapped_for_a_one_value_parameter() -> None:
    """0021 decision5 (DMN 1.5 10.3.2.9.4): `upper case(Employees[item = "Bob"])` is "BOB"; list functions still
    take the list."""
    employees = {"Employees": ["Jack", "Bob"]}
    assert evaluate('upper case(Employees[item = "Bob"])', employees) == "BOB"
    assert evaluate('string length(["abc"])') == 3
    assert evaluate('count(["abc"])') == 1
    assert evaluate('string(["abc"])') == '["abc"]'
    assert evaluate('upper case(["a", "b"])') is None
