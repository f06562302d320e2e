"""Camunda 7 typed variables (`{"value": ..., "type": "String|Integer|Long|Double|Boolean|Json|Date|Null"}`)
to and from plain process data, and Camunda's date format and definition ids."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from ..errors import ApiError

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
PREFIX = "/engine-rest"


def bad(message: str) -> ApiError:
    return ApiError(400, "InvalidRequestException", message)


def typed(value: Any) -> dict[str, Any]:
    """One process variable as Camunda 7 gives it: objects and lists as Json (the value is the JSON text)."""
    if value is None:
        return {"type": "Null", "value": None, "valueInfo": {}}
    if isinstance(value, bool):
        return {"type": "Boolean", "value": value, "valueInfo": {}}
    if isinstance(value, int):
        return {"type": "Integer" if INT_MIN <= value <= INT_MAX else "Long", "value": value, "valueInfo": {}}
    if isinstance(value, float):
        return {"type": "Double", "value": value, "valueInfo": {}}
    if isinstance(value, str):
        return {"type": "String", "value": value, "valueInfo": {}}
    return {"type": "Json", "value": json.dumps(value, default=str), "valueInfo": {}}


def typed_all(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: typed(value) for name, value in data.items()}


def untyped(name: str, item: Any) -> Any:
    """A variable a client sent (`{"value", "type"}`; the type is optional and case-insensitive, as the Node
    client writes it in lower case and the Python client leaves it out)."""
    if not isinstance(item, dict) or "value" not in item and item.get("type", "").lower() != "null":
        raise bad(f"variable {name!r}: expected an object with a 'value' (and a 'type')")
    value = item.get("value")
    kind = str(item.get("type") or "").lower()
    try:
        if kind in ("", "string", "date"):
            return value if kind != "string" or value is None else str(value)
        if kind == "null":
            return None
        if kind == "boolean":
            if isinstance(value, str):
                if value.lower() not in ("true", "false"):
                    raise ValueError(value)
                return value.lower() == "true"
            return bool(value) if value is not None else None
        if kind in ("integer", "long", "short"):
            return int(value) if value is not None else None
        if kind == "double":
            return float(value) if value is not None else None
        if kind in ("json", "object"):
            return json.loads(value) if isinstance(value, str) else value
    except (TypeError, ValueError) as exc:
        raise bad(f"Cannot convert value '{value}' of type '{item.get('type')}' for variable {name!r}: "
                  f"{exc}") from None
    raise bad(f"variable {name!r}: unsupported value type {item.get('type')!r} (supported: String, Integer, Long, "
              f"Double, Boolean, Json, Date, Null)")


def untyped_all(variables: dict[str, Any] | None) -> dict[str, Any]:
    if variables is None:
        return {}
    if not isinstance(variables, dict):
        raise bad("variables must be an object of variable name to {\"value\", \"type\"}")
    return {name: untyped(name, item) for name, item in variables.items()}


def camunda_date(at: float | None) -> str | None:
    """Camunda's default date format, `yyyy-MM-dd'T'HH:mm:ss.SSSZ`, in UTC."""
    if at is None:
        return None
    stamp = datetime.fromtimestamp(at, tz=timezone.utc)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}+0000"


def definition_id(process_id: str, version: int | None, digest: str) -> str:
    """A process definition id as Camunda writes them, `key:version:id` (the id: the stored definition's hash)."""
    return f"{process_id}:{version or 0}:{digest}"


def split_definition_id(ident: str) -> tuple[str, int, str]:
    parts = ident.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        raise ApiError(404, "InvalidRequestException", f"No matching definition with id {ident}")
    return parts[0], int(parts[1]), parts[2]
