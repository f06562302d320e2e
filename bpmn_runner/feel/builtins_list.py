"""FEEL built-ins on lists and contexts (DMN 1.5 10.3.4.4, 10.3.4.10), plus Camunda's list extras."""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any

from . import semantics as sem
from .functions import builtin, invoke
from .values import DECIMAL, FeelFunction


def _list(value: Any) -> list[Any]:
    """A list argument; a single non-null value is taken as a list of one (DMN 1.5 10.3.2.9.4 conversions)."""
    if isinstance(value, list):
        return value
    if value is None:
        raise TypeError("not a list")
    return [value]


def _items(args: tuple[Any, ...]) -> list[Any]:
    """Functions like min(list) that also take the items as separate arguments (min(1, 2, 3))."""
    if not args:
        raise TypeError("no arguments")
    if len(args) == 1:
        return args[0] if isinstance(args[0], list) else [args[0]]
    return list(args)


def _numbers(args: tuple[Any, ...]) -> list[Decimal]:
    values = _items(args)
    if not all(isinstance(v, Decimal) for v in values):
        raise TypeError("not numbers")
    return values


def _position(items: list[Any], position: Any) -> int:
    if not isinstance(position, Decimal):
        raise TypeError("position must be a number")
    index = int(position)
    if index > 0 and index <= len(items):
        return index - 1
    if index < 0 and -index <= len(items):
        return len(items) + index
    raise IndexError("position out of range")


def _contains(items: list[Any], value: Any) -> bool:
    return any(sem.equal(item, value) is True for item in items)


@builtin("list contains", "list, element")
def _list_contains(items: Any, element: Any) -> Any:
    return _contains(_list(items), element)


@builtin("count", "list")
def _count(items: Any) -> Any:
    return Decimal(len(_list(items)))


def _extreme(args: tuple[Any, ...], sign: int) -> Any:
    values = _items(args)
    if not values:
        return None
    best = values[0]
    for value in values[1:]:
        order = sem.compare(value, best)
        if order is None:
            return None
        if order * sign > 0:
            best = value
    if len(values) == 1 and sem.compare(best, best) is None:
        return None
    return best


@builtin("min", "list", variadic=True)
def _min(*args: Any) -> Any:
    return _extreme(args, -1)


@builtin("max", "list", variadic=True)
def _max(*args: Any) -> Any:
    return _extreme(args, 1)


@builtin("sum", "list", variadic=True)
def _sum(*args: Any) -> Any:
    values = _numbers(args)
    if not values:
        return None
    return functools.reduce(DECIMAL.add, values, Decimal(0))


@builtin("mean", "list", variadic=True)
def _mean(*args: Any) -> Any:
    values = _numbers(args)
    if not values:
        return None
    return DECIMAL.divide(functools.reduce(DECIMAL.add, values, Decimal(0)), Decimal(len(values)))


@builtin("product", "list", variadic=True)
def _product(*args: Any) -> Any:
    values = _numbers(args)
    if not values:
        return None
    return functools.reduce(DECIMAL.multiply, values, Decimal(1))


@builtin("median", "list", variadic=True)
def _median(*args: Any) -> Any:
    values = sorted(_numbers(args))
    if not values:
        return None
    middle = len(values) // 2
    if len(values) % 2:
        return values[middle]
    return DECIMAL.divide(DECIMAL.add(values[middle - 1], values[middle]), Decimal(2))


@builtin("stddev", "list", variadic=True)
def _stddev(*args: Any) -> Any:
    values = _numbers(args)
    if len(values) < 2:
        return None
    mean = DECIMAL.divide(functools.reduce(DECIMAL.add, values, Decimal(0)), Decimal(len(values)))
    squares = functools.reduce(DECIMAL.add, (DECIMAL.power(DECIMAL.subtract(v, mean), 2) for v in values),
                               Decimal(0))
    return DECIMAL.sqrt(DECIMAL.divide(squares, Decimal(len(values) - 1)))


@builtin("mode", "list", variadic=True)
def _mode(*args: Any) -> Any:
    values = _numbers(args)
    if not values:
        return []
    counts: dict[Decimal, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    top = max(counts.values())
    return sorted(v for v, n in counts.items() if n == top)


def _truth(args: tuple[Any, ...], every: bool) -> Any:
    values = _items(args)
    if any(not isinstance(v, bool) and v is not None for v in values):
        return None
    if every:
        return False if False in values else (None if None in values else True)
    return True if True in values else (None if None in values else False)


@builtin("all", "list", variadic=True)
def _all(*args: Any) -> Any:
    return _truth(args, True)


@builtin("any", "list", variadic=True)
def _any(*args: Any) -> Any:
    return _truth(args, False)


@builtin("sublist", "list, start position, length", required=2)
def _sublist(items: Any, start: Any, length: Any = None) -> Any:
    items = _list(items)
    index = _position(items, start)
    if length is None:
        return items[index:]
    if not isinstance(length, Decimal) or length < 0:
        return None
    if index + int(length) > len(items):
        return None
    return items[index:index + int(length)]


@builtin("append", "list, item", variadic=True, required=1)
def _append(items: Any, *new: Any) -> Any:
    return _list(items) + list(new)


@builtin("concatenate", "list", variadic=True, required=0)
def _concatenate(*lists: Any) -> Any:
    result: list[Any] = []
    for items in lists:
        result.extend(_list(items))
    return result


@builtin("insert before", "list, position, newItem")
def _insert_before(items: Any, position: Any, new: Any) -> Any:
    items = _list(items)
    index = _position(items, position)
    return items[:index] + [new] + items[index:]


@builtin("remove", "list, position")
def _remove(items: Any, position: Any) -> Any:
    items = _list(items)
    index = _position(items, position)
    return items[:index] + items[index + 1:]


@builtin("reverse", "list")
def _reverse(items: Any) -> Any:
    return list(reversed(_list(items)))


@builtin("index of", "list, match")
def _index_of(items: Any, match: Any) -> Any:
    return [Decimal(i + 1) for i, item in enumerate(_list(items)) if sem.equal(item, match) is True]


def _distinct(values: list[Any]) -> list[Any]:
    result: list[Any] = []
    for value in values:
        if not _contains(result, value):
            result.append(value)
    return result


@builtin("union", "list", variadic=True, required=0)
def _union(*lists: Any) -> Any:
    return _distinct([v for items in lists for v in _list(items)])


@builtin("distinct values", "list")
def _distinct_values(items: Any) -> Any:
    return _distinct(_list(items))


@builtin("duplicate values", "list")
def _duplicate_values(items: Any) -> Any:
    items = _list(items)
    return _distinct([v for i, v in enumerate(items) if _contains(items[:i], v)])


def _flatten(values: list[Any]) -> list[Any]:
    result: list[Any] = []
    for value in values:
        result.extend(_flatten(value) if isinstance(value, list) else [value])
    return result


@builtin("flatten", "list")
def _flatten_builtin(items: Any) -> Any:
    return _flatten(_list(items))


@builtin("sort", "list, precedes", required=1)
def _sort(items: Any, precedes: Any = None) -> Any:
    items = _list(items)
    if precedes is None:
        for value in items:
            if sem.compare(items[0], value) is None:
                return None
        return sorted(items, key=functools.cmp_to_key(lambda a, b: sem.compare(a, b) or 0))
    if not isinstance(precedes, FeelFunction):
        return None

    def order(a: Any, b: Any) -> int:
        if invoke(precedes, a, b) is True:
            return -1
        if invoke(precedes, b, a) is True:
            return 1
        return 0
    return sorted(items, key=functools.cmp_to_key(order))


@builtin("list replace", "list, position, newItem")
def _list_replace(items: Any, position: Any, new: Any) -> Any:
    if isinstance(position, FeelFunction):
        return _list_replace_matching(items, position, new)
    items = list(_list(items))
    items[_position(items, position)] = new
    return items


@builtin("list replace", "list, match, newItem")
def _list_replace_matching(items: Any, match: Any, new: Any) -> Any:
    if not isinstance(match, FeelFunction) or len(match.params) != 2:
        return None
    results = [invoke(match, item, new) for item in _list(items)]
    if any(not isinstance(r, bool) for r in results):
        return None
    return [new if r else item for item, r in zip(_list(items), results)]


@builtin("is empty", "list")
def _is_empty(items: Any) -> Any:
    return len(_list(items)) == 0


@builtin("partition", "list, size")
def _partition(items: Any, size: Any) -> Any:
    items = _list(items)
    if not isinstance(size, Decimal) or size < 1:
        return None
    step = int(size)
    return [items[i:i + step] for i in range(0, len(items), step)]
