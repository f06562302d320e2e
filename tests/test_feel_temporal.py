"""FEEL dates, times, date-times and durations (DMN 1.5 10.3.2.3.4-7, 10.3.2.8 temporal arithmetic)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bpmn_runner.feel import YearsMonthsDuration, evaluate


@pytest.mark.parametrize("text, expected", [
    ('date("2024-02-29")', dt.date(2024, 2, 29)),
    ('date("2023-02-29")', None),
    ('@"2024-01-02"', dt.date(2024, 1, 2)),
    ('time("10:20:30.5")', dt.time(10, 20, 30, 500000)),
    ('date and time("2024-01-02T10:00:00")', dt.datetime(2024, 1, 2, 10)),
    ('duration("P1DT2H")', dt.timedelta(days=1, hours=2)),
    ('duration("P1Y2M")', YearsMonthsDuration(14)),
    ('duration("-PT90M")', -dt.timedelta(minutes=90)),
    ('date(2024, 1, 31)', dt.date(2024, 1, 31)),
    ('time(10, 20, 30, duration("PT1H"))', dt.time(10, 20, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))),
])
def test_constructors_and_literals(text: str, expected: object) -> None:
    """DMN 1.5 10.3.4.1 conversion functions and the `@"..."` temporal literal (10.3.1.2 rule 65)."""
    assert evaluate(text) == expected


@pytest.mark.parametrize("text, expected", [
    ('string(date and time("2024-01-02T10:00:00@Europe/Paris"))', "2024-01-02T10:00:00@Europe/Paris"),
    ('string(date and time("2024-01-02T10:00:00+01:00"))', "2024-01-02T10:00:00+01:00"),
    ('string(date and time("2024-01-02T10:00:00Z"))', "2024-01-02T10:00:00Z"),
    ('string(time("10:00:00@Etc/UTC"))', "10:00:00@Etc/UTC"),
    ('string(duration("PT36H"))', "P1DT12H"),
    ('string(duration("P14M"))', "P1Y2M"),
    ('string(duration("PT0S"))', "PT0S"),
])
def test_zones_offsets_and_string_forms(text: str, expected: str) -> None:
    """DMN 1.5 10.3.2.3.5-6: zone ids and offsets are kept; string() prints the ISO 8601 form."""
    assert evaluate(text) == expected


@pytest.mark.parametrize("text, expected", [
    ('date("2024-01-31") + duration("P1M")', dt.date(2024, 2, 29)),
    ('date("2024-03-01") - date("2024-02-01")', dt.timedelta(days=29)),
    ('date and time("2024-01-02T10:00:00") + duration("PT90M")', dt.datetime(2024, 1, 2, 11, 30)),
    ('time("23:00:00") + duration("PT2H")', dt.time(1, 0)),
    ('time("10:00:00") - time("08:30:00")', dt.timedelta(hours=1, minutes=30)),
    ('duration("P1D") * 2', dt.timedelta(days=2)),
    ('duration("P1D") / duration("PT12H")', Decimal(2)),
    ('duration("P1Y") + duration("P2M")', YearsMonthsDuration(14)),
    ('duration("P1Y") + duration("P1D")', None),
    ('@"2021-01-02T10:10:10+01:00" - @"2021-01-01"', dt.timedelta(days=1, hours=9, minutes=10, seconds=10)),
    ('@"2021-01-01T00:00:00" - @"2021-01-02"', None),
    ('years and months duration(date("2020-01-15"), date("2021-03-14"))', YearsMonthsDuration(13)),
])
def test_temporal_arithmetic(text: str, expected: object) -> None:
    """DMN 1.5 10.3.2.8 Table 57 (arithmetic on dates, times and durations); a date is midnight UTC against an
    offset date-time, and a local date-time minus a date is null (as the TCK's 0100-arithmetic expects)."""
    assert evaluate(text) == expected


@pytest.mark.parametrize("text, expected", [
    ('date and time("2024-01-02T10:00:00@Europe/Paris") = date and time("2024-01-02T09:00:00Z")', True),
    ('date and time("2024-01-02T10:00:00") < date and time("2024-01-02T11:00:00")', True),
    ('date and time("2024-01-02T10:00:00") < date and time("2024-01-02T11:00:00Z")', None),
    ('duration("P1Y") > duration("P11M")', True),
    ('duration("P1Y") > duration("P1D")', None),
])
def test_temporal_comparison(text: str, expected: object) -> None:
    """DMN 1.5 10.3.2.3.5: date-times compare as instants; local against zoned, or mixed durations, is null."""
    assert evaluate(text) == expected


@pytest.mark.parametrize("text, expected", [
    ('date("2024-03-05").year', 2024), ('date("2024-03-05").weekday', 2),
    ('date and time("2024-03-05T10:20:30+02:00").time offset', dt.timedelta(hours=2)),
    ('date and time("2024-03-05T10:20:30@Europe/Paris").timezone', "Europe/Paris"),
    ('time("10:20:30.25").second', Decimal("30.25")),
    ('duration("P2DT3H").days', 2), ('duration("P2DT3H").hours', 3), ('duration("P14M").years', 1),
    ('duration("P14M").months', 2), ('duration("-P14M").months', -2),
])
def test_properties(text: str, expected: object) -> None:
    """DMN 1.5 10.3.2.7 Table 59 (properties of temporal values and durations)."""
    assert evaluate(text) == expected


@pytest.mark.parametrize("text, expected", [
    ('day of year(date("2024-03-01"))', 61), ('day of week(date("2024-03-04"))', "Monday"),
    ('month of year(date("2024-03-04"))', "March"), ('week of year(date("2021-01-03"))', 53),
    ('is(time("10:00:00+01:00"), time("09:00:00Z"))', False), ('is(date("2024-01-01"), date("2024-01-01"))', True),
    ('last day of month(date("2024-02-10"))', dt.date(2024, 2, 29)),
])
def test_date_functions(text: str, expected: object) -> None:
    """DMN 1.5 10.3.4.7 (temporal built-ins, `is`) and Camunda 8's `last day of month`."""
    assert evaluate(text) == expected


def test_now_and_today() -> None:
    """DMN 1.5 10.3.4.7 now() and today(): the current date-time (with an offset) and date."""
    assert evaluate("now() instance of date and time") is True
    assert evaluate("today()") == dt.date.today()


def test_for_over_a_date_range() -> None:
    """DMN 1.5 10.3.2.14: `for d in date1..date2` iterates day by day."""
    assert evaluate('for d in @"2024-01-30"..@"2024-02-01" return day of year(d)') == [30, 31, 32]


@pytest.mark.parametrize("text, expected", [
    ('string(date("-999999999-12-31"))', "-999999999-12-31"),
    ('string(date(12021, 1, 1))', "12021-01-01"),
    ('string(@"-2021-01-01T10:10:10+11:00" + @"P1M")', "-2021-02-01T10:10:10+11:00"),
    ('string(@"-2021-01-01T10:10:10@Australia/Melbourne" - @"PT1H")', "-2021-01-01T09:10:10@Australia/Melbourne"),
    ('@"-2021-01-01" < @"2021-01-01"', True),
    ('@"-2021-01-03" - @"-2021-01-01"', dt.timedelta(days=2)),
    ('@"12021-06-01".year', 12021),
    ('date("01211-12-31")', None),
])
def test_years_beyond_python_dates(text: str, expected: object) -> None:
    """DMN 1.5 10.3.2.3.4: FEEL years run from -999,999,999 to 999,999,999 (TCK 0100-arithmetic, 1115, 1117)."""
    assert evaluate(text) == expected


def test_nanoseconds_are_kept_for_display() -> None:
    """DMN 1.5 10.3.2.3.4: seconds may have nine fractional digits; they print back as written (TCK 1117),
    while arithmetic and comparison work to the microsecond."""
    assert evaluate('string(date and time("2011-12-31T10:15:30.123456789@Europe/Paris"))') == \
        "2011-12-31T10:15:30.123456789@Europe/Paris"
    assert evaluate('string(date and time(date("2017-01-01"), time("23:59:01.987654321")))') == \
        "2017-01-01T23:59:01.987654321"
    assert evaluate('time("10:00:00.123456789") < time("10:00:01")') is True


def test_time_equality_is_to_the_second() -> None:
    """TCK 0068-feel-equality time_005 / datetime_003_a: "value resolution is seconds" for `=` on times and
    date-times (DMN 1.5 valuet/valuedt count seconds); `<` still sees the fraction."""
    assert evaluate('time("10:30:00.0001") = time("10:30:00.0002")') is True
    assert evaluate('time("10:30:00.0001") < time("10:30:00.0002")') is True
    assert evaluate('date and time("2018-12-08T00:00:00.5") = date and time("2018-12-08T00:00:00")') is True
    assert evaluate('time("10:30:01") = time("10:30:00")') is False
