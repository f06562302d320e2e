"""The one JSON conversion of process data: what results, history rows and the store hold."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

__all__ = ["json_safe"]


def json_safe(value: Any) -> Any:
    """`value` as plain JSON values: datetimes become ISO 8601 (UTC when they carry a zone), sets and tuples
    lists, anything else its string."""
    return json.loads(json.dumps(value, default=_default))


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)
