"""The one JSON conversion of process data: what results, history rows and the store hold."""

from __future__ import annotations

import copy
import dataclasses
import json
from datetime import datetime, timezone
from typing import Any

__all__ = ["json_safe"]  # copy_data is for the engine (_spiff), not a public name

_ATOMS = frozenset((str, int, float, bool, type(None)))


def json_safe(value: Any) -> Any:
    """`value` as plain JSON values: datetimes become ISO 8601 (UTC when they carry a zone), sets and tuples
    lists, anything else its string."""
    try:
        return _plain_copy(value)
    except (_NotPlain, RecursionError):
        return json.loads(json.dumps(value, default=_default))


class _NotPlain(Exception):
    """A value a JSON round trip would change (or might): json_safe takes that path."""


def _plain_copy(value: Any) -> Any:
    """A copy of a value made only of JSON types (str keys), equal to what the JSON round trip gives, without
    writing and reading the text (every committed step and every result converts its data)."""
    kind = type(value)
    if kind in _ATOMS:
        return value
    if kind is dict:
        out = {}
        atoms = _ATOMS
        for key, item in value.items():
            if type(key) is not str:
                raise _NotPlain
            out[key] = item if type(item) in atoms else _plain_copy(item)  # most values: no call
        return out
    if kind is list or kind is tuple:
        atoms = _ATOMS
        return [item if type(item) in atoms else _plain_copy(item) for item in value]
    raise _NotPlain


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def copy_data(data: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of process data; a flat dict of strings, numbers, booleans and nulls (the common case) is
    copied without `copy.deepcopy`'s bookkeeping."""
    atoms = _ATOMS
    for value in data.values():
        if type(value) not in atoms:
            return copy.deepcopy(data)
    return dict(data)


_FIELDS: dict[type, tuple[str, ...]] = {}


def dataclass_json(value: Any) -> Any:
    """`json_safe(dataclasses.asdict(value))`, without asdict's deep copy when the fields hold only JSON types."""
    names = _FIELDS.get(type(value))
    if names is None:
        names = _FIELDS[type(value)] = tuple(f.name for f in dataclasses.fields(value))
    try:
        return _plain_copy({name: getattr(value, name) for name in names})
    except (_NotPlain, RecursionError):
        return json_safe(dataclasses.asdict(value))
