"""Cron timer cycles as Camunda writes them (Quartz: seconds first, `?`, days of the week 1 = Sunday), via croniter."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from croniter import croniter

from .errors import ExpressionError

__all__ = ["is_cron", "to_croniter", "check_cron", "next_fire"]

_FIELDS = re.compile(r"^(\S+\s+){4,6}\S+$")
_QUARTZ_DAYS = {str(n): name for n, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), start=1)}
_DAY_NUMBER = re.compile(r"(?<![/#\d])([1-7])(?!\d)")


def is_cron(text: str) -> bool:
    """A cron expression (5 to 7 fields) rather than ISO 8601 (`R3/PT10M`) or an expression."""
    value = text.strip()
    return bool(_FIELDS.match(value)) and not value.startswith(("=", "$", "#", "R", "P"))


def to_croniter(text: str) -> str:
    """Quartz text for croniter: numeric days of the week become names, since Quartz counts 1 = Sunday and cron 0."""
    fields = text.split()
    if len(fields) == 5:  # classic cron (Camunda 8 also accepts it): no seconds field
        fields = ["0", *fields]
    if len(fields) >= 6:
        fields[5] = _DAY_NUMBER.sub(lambda m: _QUARTZ_DAYS[m.group(1)], fields[5])
    return " ".join(fields)


def check_cron(text: str) -> None:
    """Raise ExpressionError when croniter cannot read the (Quartz) expression."""
    try:
        croniter(to_croniter(text), datetime(2000, 1, 1, tzinfo=timezone.utc), second_at_beginning=True)
    except (ValueError, KeyError, TypeError) as exc:
        raise ExpressionError(f"cron timer cycle {text.strip()!r} cannot be read: {exc}") from None


def next_fire(text: str, after: datetime) -> datetime:
    """The first time strictly after `after` that the cron expression names (UTC)."""
    if after.tzinfo is None:
        after = after.replace(tzinfo=timezone.utc)
    try:
        return croniter(to_croniter(text), after, second_at_beginning=True).get_next(datetime)
    except (ValueError, KeyError, TypeError) as exc:
        raise ExpressionError(f"cron timer cycle {text.strip()!r} has no next time: {exc}") from None
