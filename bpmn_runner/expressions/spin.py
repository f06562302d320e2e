"""Camunda Spin's JSON API as JUEL expressions use it: `${S(customer).prop("address").prop("zip").numberValue()}`."""

from __future__ import annotations

import json
from typing import Any

from ._problems import Problem


class Spin:
    """Camunda Spin's JSON node as JUEL sees it: `${S(customer).prop("address").prop("zip").numberValue()}`."""

    def __init__(self, value: Any) -> None:
        self.value = value

    @classmethod
    def of(cls, value: Any) -> "Spin":
        if isinstance(value, Spin):
            return value
        if isinstance(value, str):
            try:
                return cls(json.loads(value))
            except ValueError as exc:
                raise Problem(f"S() cannot parse the JSON text: {exc}") from None
        return cls(value)

    def call(self, method: str, args: list[Any]) -> Any:
        value = self.value
        if method == "prop" and len(args) == 1:
            if not isinstance(value, dict) or str(args[0]) not in value:
                raise Problem(f"S(...).prop({args[0]!r}): unable to find {args[0]!r}")
            return Spin(value[str(args[0])])
        if method == "hasProp" and len(args) == 1:
            return isinstance(value, dict) and str(args[0]) in value
        typed = {"stringValue": str, "numberValue": (int, float), "boolValue": bool}
        if method in typed and not args:
            if not isinstance(value, typed[method]) or (method == "numberValue" and isinstance(value, bool)):
                raise Problem(f"S(...).{method}(): the value is {describe_value(value, json_words=True)}")
            return value
        if method == "elements" and not args:
            if not isinstance(value, list):
                raise Problem(f"S(...).elements(): the value is {describe_value(value, json_words=True)}, not an array")
            return [Spin(item) for item in value]
        checks = {"isObject": lambda: isinstance(value, dict), "isArray": lambda: isinstance(value, list),
                  "isString": lambda: isinstance(value, str), "isBoolean": lambda: isinstance(value, bool),
                  "isNumber": lambda: isinstance(value, (int, float)) and not isinstance(value, bool), "isNull": lambda: value is None,
                  "value": lambda: value, "toString": lambda: json.dumps(value, separators=(",", ":")),
                  "fieldNames": lambda: list(value) if isinstance(value, dict) else []}
        if method in checks and not args:
            return checks[method]()
        raise Problem(f"S(...).{method}() is not available")


def describe_value(value: Any, *, json_words: bool = False) -> str:
    """What kind of value this is, for an error message: EL words (`a map`, `a list`), or JSON's (`an object`,
    `an array`) for Spin."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "an object" if json_words else "a map"
    if isinstance(value, (list, tuple)):
        return "an array" if json_words else "a list"
    return "an object"
