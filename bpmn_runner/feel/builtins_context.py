"""FEEL built-ins on contexts (DMN 1.5 10.3.4.10), plus Camunda 8's put, put all, get or else, JSON and assert."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .builtins_list import _items, _list
from .functions import NotApplicable, builtin


def _context(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError("not a context")
    return value


@builtin("get value", "m, key")
def _get_value(context: Any, key: Any) -> Any:
    context = _context(context)
    if isinstance(key, list):
        for part in key:
            if not isinstance(context, dict) or not isinstance(part, str):
                return None
            context = context.get(part)
        return context
    if not isinstance(key, str):
        return None
    return context.get(key)


@builtin("get entries", "m")
def _get_entries(context: Any) -> Any:
    return [{"key": k, "value": v} for k, v in _context(context).items()]


@builtin("context", "entries")
def _context_from(entries: Any) -> Any:
    result: dict[str, Any] = {}
    for entry in _list(entries):
        if not isinstance(entry, dict) or "key" not in entry or "value" not in entry:
            return None
        key = entry["key"]
        if not isinstance(key, str) or key in result:
            return None
        result[key] = entry["value"]
    return result


def _put(context: dict[str, Any], keys: list[Any], value: Any) -> Any:
    key = keys[0]
    if not isinstance(key, str):
        raise TypeError("a context key must be a string")
    result = dict(context)
    if len(keys) == 1:
        result[key] = value
        return result
    inner = result.get(key)
    if inner is None:
        inner = {}
    if not isinstance(inner, dict):
        return None
    nested = _put(inner, keys[1:], value)
    if nested is None:
        return None
    result[key] = nested
    return result


@builtin("context put", "context, keys, value")
def _context_put_keys(context: Any, keys: Any, value: Any) -> Any:
    if not isinstance(keys, list):
        raise NotApplicable()
    if not keys:
        return None
    return _put(_context(context), keys, value)


@builtin("context put", "context, key, value")
def _context_put(context: Any, key: Any, value: Any) -> Any:
    if not isinstance(key, str):
        return None
    return _put(_context(context), [key], value)


@builtin("context merge", "contexts")
def _context_merge(contexts: Any) -> Any:
    result: dict[str, Any] = {}
    for context in _list(contexts):
        result.update(_context(context))
    return result


@builtin("get or else", "value, default")
def _get_or_else(value: Any, default: Any) -> Any:
    return default if value is None else value



# ---- Camunda 8 context and JSON extensions (docs.camunda.io "FEEL built-in functions: context, conversion") --


@builtin("put", "context, key, value")
def _put_entry(context: Any, key: Any, value: Any) -> Any:
    return _context_put(context, key, value)


@builtin("put all", "contexts", variadic=True)
def _put_all(*contexts: Any) -> Any:
    return _context_merge(_items(contexts))


@builtin("to json", "value")
def _to_json(value: Any) -> Any:
    import json

    from .values import to_json
    return json.dumps(to_json(value), ensure_ascii=False, separators=(",", ":"))


@builtin("from json", "value")
def _from_json(text: Any) -> Any:
    import json

    from .values import to_feel
    if not isinstance(text, str):
        return None
    try:
        return to_feel(json.loads(text, parse_float=Decimal))
    except ValueError:
        return None


@builtin("assert", "value, condition, cause", required=2)
def _assert(value: Any, condition: Any, cause: Any = None) -> Any:
    """Camunda 8: `assert(x, x > 0, "x must be positive")` fails the evaluation when the condition is not true."""
    if condition is not True:
        from .errors import FeelEvaluationError
        raise FeelEvaluationError(f"assertion failed: {cause}" if isinstance(cause, str) else "assertion failed")
    return value
