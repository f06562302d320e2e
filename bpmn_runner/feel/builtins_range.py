"""FEEL range built-ins: before, after, meets ... coincides, and range() (DMN 1.5 10.3.4.9)."""

from __future__ import annotations

from typing import Any, Callable

from . import semantics as sem
from .functions import NotApplicable, builtin
from .values import Range

_LOW, _HIGH = object(), object()


def _cmp(a: Any, b: Any) -> int:
    """Compare points where an unbounded range end is -infinity (_LOW) or +infinity (_HIGH)."""
    if a is b and a in (_LOW, _HIGH):
        return 0
    if a is _LOW or b is _HIGH:
        return -1
    if a is _HIGH or b is _LOW:
        return 1
    order = sem.compare(a, b)
    if order is None:
        raise TypeError("values are not comparable")
    return order


def _start(r: Range) -> Any:
    return _LOW if r.start is None else r.start


def _end(r: Range) -> Any:
    return _HIGH if r.end is None else r.end


def _point(value: Any) -> Any:
    if value is None or isinstance(value, (Range, list, dict, bool)):
        raise NotApplicable()
    return value


def _range(value: Any) -> Range:
    if not isinstance(value, Range):
        raise NotApplicable()
    return value


def _register(name: str, points: Callable[[Any, Any], bool] | None,
              point_range: Callable[[Any, Range], bool] | None,
              range_point: Callable[[Range, Any], bool] | None,
              ranges: Callable[[Range, Range], bool]) -> None:
    if points is not None:
        fn = points
        builtin(name, "point1, point2")(lambda a, b: fn(_point(a), _point(b)))
    if point_range is not None:
        f2 = point_range
        builtin(name, "point, range")(lambda a, b: f2(_point(a), _range(b)))
    if range_point is not None:
        f3 = range_point
        builtin(name, "range, point")(lambda a, b: f3(_range(a), _point(b)))
    builtin(name, "range1, range2")(lambda a, b: ranges(_range(a), _range(b)))


def _before_pr(p: Any, r: Range) -> bool:
    order = _cmp(p, _start(r))
    return order < 0 or (order == 0 and not r.start_included)


def _before_rp(r: Range, p: Any) -> bool:
    order = _cmp(_end(r), p)
    return order < 0 or (order == 0 and not r.end_included)


def _before_rr(a: Range, b: Range) -> bool:
    order = _cmp(_end(a), _start(b))
    return order < 0 or (order == 0 and (not a.end_included or not b.start_included))


def _meets(a: Range, b: Range) -> bool:
    return a.end_included and b.start_included and _cmp(_end(a), _start(b)) == 0


def _overlaps(a: Range, b: Range) -> bool:
    o1 = _cmp(_end(a), _start(b))
    o2 = _cmp(_start(a), _end(b))
    return (o1 > 0 or (o1 == 0 and a.end_included and b.start_included)) and (
        o2 < 0 or (o2 == 0 and a.start_included and b.end_included))


def _overlaps_before(a: Range, b: Range) -> bool:
    s = _cmp(_start(a), _start(b))
    eb = _cmp(_end(a), _start(b))
    ee = _cmp(_end(a), _end(b))
    return ((s < 0 or (s == 0 and a.start_included and not b.start_included))
            and (eb > 0 or (eb == 0 and a.end_included and b.start_included))
            and (ee < 0 or (ee == 0 and (not a.end_included or b.end_included))))


def _finishes_pr(p: Any, r: Range) -> bool:
    return r.end_included and _cmp(_end(r), p) == 0


def _finishes_rr(a: Range, b: Range) -> bool:
    s = _cmp(_start(a), _start(b))
    return (a.end_included == b.end_included and _cmp(_end(a), _end(b)) == 0
            and (s > 0 or (s == 0 and (not a.start_included or b.start_included))))


def _includes_rp(r: Range, p: Any) -> bool:
    s, e = _cmp(_start(r), p), _cmp(_end(r), p)
    return (s < 0 and e > 0) or (s == 0 and r.start_included) or (e == 0 and r.end_included)


def _includes_rr(a: Range, b: Range) -> bool:
    s = _cmp(_start(a), _start(b))
    e = _cmp(_end(a), _end(b))
    return ((s < 0 or (s == 0 and (a.start_included or not b.start_included)))
            and (e > 0 or (e == 0 and (a.end_included or not b.end_included))))


def _starts_pr(p: Any, r: Range) -> bool:
    return r.start_included and _cmp(_start(r), p) == 0


def _starts_rr(a: Range, b: Range) -> bool:
    e = _cmp(_end(b), _end(a))
    return (_cmp(_start(a), _start(b)) == 0 and a.start_included == b.start_included
            and (e > 0 or (e == 0 and (not a.end_included or b.end_included))))


def _coincides_rr(a: Range, b: Range) -> bool:
    return (_cmp(_start(a), _start(b)) == 0 and a.start_included == b.start_included
            and _cmp(_end(a), _end(b)) == 0 and a.end_included == b.end_included)


_register("before", lambda a, b: _cmp(a, b) < 0, _before_pr, _before_rp, _before_rr)
_register("after", lambda a, b: _cmp(b, a) < 0, lambda p, r: _before_rp(r, p), lambda r, p: _before_pr(p, r),
          lambda a, b: _before_rr(b, a))
_register("meets", None, None, None, _meets)
_register("met by", None, None, None, lambda a, b: _meets(b, a))
_register("overlaps", None, None, None, _overlaps)
_register("overlaps before", None, None, None, _overlaps_before)
_register("overlaps after", None, None, None, lambda a, b: _overlaps_before(b, a))
_register("finishes", None, _finishes_pr, None, _finishes_rr)
_register("finished by", None, None, lambda r, p: _finishes_pr(p, r), lambda a, b: _finishes_rr(b, a))
_register("includes", None, None, _includes_rp, _includes_rr)
_register("during", None, lambda p, r: _includes_rp(r, p), None, lambda a, b: _includes_rr(b, a))
_register("starts", None, _starts_pr, None, _starts_rr)
_register("started by", None, None, lambda r, p: _starts_pr(p, r), lambda a, b: _starts_rr(b, a))
_register("coincides", lambda a, b: _cmp(a, b) == 0, None, None, _coincides_rr)


@builtin("range", "from")
def _range_from(text: Any) -> Any:
    """range("[1..10)"), range("<= 5"): a range from its FEEL text (endpoints must be literals)."""
    if not isinstance(text, str):
        return None
    from .api import parse_range_text
    return parse_range_text(text)
