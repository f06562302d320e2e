"""FEEL type names and `instance of` conformance (DMN 1.5 10.3.2.9.4 type conformance, 10.3.2.15)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable

from .values import FeelFunction, Range, kind_of

_ALIASES = {"dayTimeDuration": "days and time duration", "yearMonthDuration": "years and months duration",
            "dateTime": "date and time", "feel:number": "number", "feel:string": "string",
            "feel:boolean": "boolean", "feel:date": "date", "feel:time": "time",
            "feel:dateTime": "date and time", "feel:date and time": "date and time",
            "feel:days and time duration": "days and time duration",
            "feel:years and months duration": "years and months duration", "feel:context": "context",
            "feel:Any": "Any", "duration": "duration"}


def _split_top(text: str, separator: str = ",") -> list[str]:
    parts, depth, current = [], 0, []
    for ch in text:
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        if ch == separator and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    parts.append("".join(current).strip())
    return [p for p in parts if p]


@lru_cache(maxsize=512)
def parse_type(text: str) -> tuple[Any, ...]:
    """A type text as a tuple: ('name', n), ('list', t), ('range', t), ('context', ((k, t), ...)), ('function', ...)."""
    text = " ".join(text.split())
    if text.startswith("function<"):
        close = _matching(text, len("function"))
        args = tuple(parse_type(a) for a in _split_top(text[len("function<"):close]))
        result = text[close + 1:].strip()
        result = result[2:].strip() if result.startswith("->") else "Any"
        return ("function", args, parse_type(result))
    for kind in ("list", "range"):
        if text.startswith(kind + "<") and text.endswith(">"):
            return (kind, parse_type(text[len(kind) + 1:-1]))
    if text.startswith("context<") and text.endswith(">"):
        fields = []
        for part in _split_top(text[len("context<"):-1]):
            key, _, type_text = part.partition(":")
            fields.append((key.strip(), parse_type(type_text)))
        return ("context", tuple(fields))
    return ("name", _ALIASES.get(text, text))


def _matching(text: str, open_index: int) -> int:
    depth = 0
    for index in range(open_index, len(text)):
        if text[index] == "<":
            depth += 1
        elif text[index] == ">" and text[index - 1] != "-":
            depth -= 1
            if depth == 0:
                return index
    return len(text) - 1


_BUILT_IN = frozenset({"Any", "Null", "duration", "number", "string", "boolean", "date", "time", "date and time",
                       "days and time duration", "years and months duration", "list", "context", "range",
                       "function"})
TypeResolver = Callable[[Any, str], "bool | None"]


def conforms(value: Any, type_name: str, resolve: TypeResolver | None = None) -> bool:
    """Is `value` an instance of the FEEL type `type_name` ("number", "list<string>", "context<a: number>", ...).

    `resolve(value, name)` answers for other type names (DMN item definitions); without it they conform to nothing.
    """
    return _conforms(value, parse_type(type_name), resolve)


def _conforms(value: Any, kind: tuple[Any, ...], resolve: TypeResolver | None = None) -> bool:
    tag = kind[0]
    if tag == "name":
        name = kind[1]
        if name not in _BUILT_IN:
            return bool(resolve(value, name)) if resolve is not None else False
        if name == "Any":
            return value is not None
        if name == "Null":
            return value is None
        if value is None:
            return False
        actual = kind_of(value)
        if name == "duration":
            return actual in ("days and time duration", "years and months duration")
        return actual == name
    if tag == "list":
        return isinstance(value, list) and all(item is None or _conforms(item, kind[1], resolve) for item in value)
    if tag == "range":
        return isinstance(value, Range) and all(
            v is None or _conforms(v, kind[1], resolve) for v in (value.start, value.end))
    if tag == "context":
        return isinstance(value, dict) and all(
            key in value and (value[key] is None or _conforms(value[key], t, resolve)) for key, t in kind[1])
    if tag == "function":
        if not isinstance(value, FeelFunction):
            return False
        if not value.param_types or len(value.param_types) != len(kind[1]):
            return len(value.params) == len(kind[1]) or value.variadic
        return all(t is None or parse_type(t) == expected or expected == ("name", "Any")
                   for t, expected in zip(value.param_types, kind[1]))
    return False
