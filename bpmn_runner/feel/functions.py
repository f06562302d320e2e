"""Function invocation (positional and named arguments) and the registry of built-in functions (DMN 1.5 10.3.4)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable

from .errors import FeelEvaluationError
from .values import FeelFunction

BUILTINS: dict[str, FeelFunction] = {}
_OVERLOADS: dict[int, list[FeelFunction]] = {}
# Parameters of built-ins that take one value, never a list: a singleton list given there is unwrapped (DMN 1.5
# 10.3.2.9.4, "from singleton list"; the TCK's 0021-singleton-list calls `upper case(Employees[item = "Bob"])`).
_SCALAR_PARAMETERS = frozenset({
    "string", "match", "n", "number", "date", "time", "scale", "start position", "length", "pattern", "replacement",
    "flags", "delimiter", "dividend", "divisor", "year", "month", "day", "hour", "minute", "second", "offset"})
_SCALARS: dict[int, tuple[int, ...]] = {}


class NotApplicable(Exception):
    """Raised by an overload of a built-in whose argument types do not fit, so the next overload is tried."""


def builtin(name: str, params: str = "", *, required: int | None = None,
            variadic: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register `fn` as the FEEL built-in `name` with parameters "a, b, c" (several registrations overload)."""
    names = [p.strip() for p in params.split(",") if p.strip()]

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        function = FeelFunction(names, fn, name, required=required, variadic=variadic)
        scalars = tuple(i for i, param in enumerate(names) if param in _SCALAR_PARAMETERS)
        if scalars and not variadic:
            _SCALARS[id(function)] = scalars
        existing = BUILTINS.get(name)
        if existing is None:
            BUILTINS[name] = function
            _OVERLOADS[id(function)] = [function]
        else:
            _OVERLOADS[id(existing)].append(function)
        return fn
    return register


def lookup_builtin(name: str) -> FeelFunction | None:
    return BUILTINS.get(name)


def _candidates(function: FeelFunction) -> list[FeelFunction]:
    return _OVERLOADS.get(id(function), [function])


def _bind(function: FeelFunction, positional: list[Any], named: dict[str, Any] | None) -> list[Any] | None:
    if named is None:
        count = len(positional)
        if count < (function.required or 0) or (count > len(function.params) and not function.variadic):
            return None
        return positional
    if any(key not in function.params for key in named):
        return None
    args: list[Any] = []
    for index, param in enumerate(function.params):
        if param in named:
            args.append(named[param])
        elif index < (function.required or 0):
            return None
        else:
            break
    if len(args) < len(named):
        return None
    return args


def accepts(function: FeelFunction, count: int, keys: tuple[str, ...] | None) -> bool:
    """Could some overload of `function` take `count` positional arguments (or the named `keys`)?"""
    dummies = [None] * count
    named = dict.fromkeys(keys) if keys else None
    return any(_bind(candidate, dummies, named) is not None for candidate in _candidates(function))


def call_function(function: Any, positional: list[Any], named: dict[str, Any] | None) -> Any:
    """Invoke a FEEL function value; a wrong argument count or a failure inside yields null."""
    if not isinstance(function, FeelFunction):
        return None
    for candidate in _candidates(function):
        args = _bind(candidate, positional, named)
        if args is None:
            continue
        scalars = _SCALARS.get(id(candidate))
        if scalars:
            args = [arg[0] if index in scalars and isinstance(arg, list) and len(arg) == 1 else arg
                    for index, arg in enumerate(args)]
        try:
            return candidate.body(*args)
        except NotApplicable:
            continue
        except FeelEvaluationError:
            raise
        except RecursionError:
            raise FeelEvaluationError("FEEL evaluation recursed too deeply") from None
        except Exception:  # noqa: BLE001 -- FEEL: a function applied to unsuitable values gives null
            return None
    return None


def invoke(function: Any, *args: Any) -> Any:
    """Call a FEEL function from Python code inside a built-in (sort's `precedes`, for example)."""
    return call_function(function, list(args), None)


def is_number(value: Any) -> bool:
    return isinstance(value, Decimal)


def load_builtins() -> None:
    from . import (builtins_context, builtins_core, builtins_list, builtins_numeric,  # noqa: F401
                   builtins_range, builtins_temporal)
