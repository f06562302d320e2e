"""Size guards for the Python dialects: operators, builtins and string methods that refuse huge results."""

from __future__ import annotations

import operator
import re
from typing import Any, Callable, Iterable

from ._problems import Problem

MAX_INT_BITS = 100_000  # about 30,000 decimal digits
MAX_LENGTH = 1_000_000  # characters or elements one operation may produce
MAX_TOTAL_LENGTH = 50_000_000  # elements all guarded operations of one run may produce together
MAX_FORMAT_WIDTH = 10_000

_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_DIGITS = re.compile(r"\d+")


class LimitExceeded(Problem):
    """An operation would build a value larger than the sandbox allows."""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_format_spec(spec: str) -> None:
    """Refuse an f-string/format spec whose width or precision would build a huge string."""
    for digits in _DIGITS.findall(spec):
        if int(digits) > MAX_FORMAT_WIDTH:
            raise LimitExceeded(f"format width {digits} is over the limit of {MAX_FORMAT_WIDTH}")


class SizeGuard:
    """Guarded operators for one evaluation or script run; counts what they produce against a total budget."""

    def __init__(self) -> None:
        self.produced = 0
        self.operators: dict[str, Callable[[Any, Any], Any]] = {
            "+": self.add, "*": self.mul, "**": self.pow, "<<": self.lshift, "%": self.mod,
            "-": operator.sub, "/": operator.truediv, "//": operator.floordiv, ">>": operator.rshift,
            "&": operator.and_, "|": operator.or_, "^": operator.xor, "@": operator.matmul}

    def _count(self, length: int) -> None:
        if length > MAX_LENGTH:
            raise LimitExceeded(f"the result would have {length:,} items, over the limit of {MAX_LENGTH:,}")
        self.produced += length
        if self.produced > MAX_TOTAL_LENGTH:
            raise LimitExceeded(f"the run built more than {MAX_TOTAL_LENGTH:,} items in total")

    def add(self, a: Any, b: Any) -> Any:
        if hasattr(a, "__len__") and hasattr(b, "__len__") and not isinstance(a, (dict, set)):
            self._count(len(a) + len(b))
        return a + b

    def mul(self, a: Any, b: Any) -> Any:
        if _is_int(a) and _is_int(b):
            if a.bit_length() + b.bit_length() > MAX_INT_BITS:
                raise LimitExceeded(f"the product would have more than {MAX_INT_BITS:,} bits")
        elif hasattr(a, "__len__") and _is_int(b):
            self._count(len(a) * max(b, 0))
        elif hasattr(b, "__len__") and _is_int(a):
            self._count(len(b) * max(a, 0))
        return a * b

    def pow(self, a: Any, b: Any, mod: Any = None) -> Any:
        if mod is None and _is_int(a) and _is_int(b) and b > 0 and abs(a) > 1:
            if a.bit_length() * b > MAX_INT_BITS:
                raise LimitExceeded(f"{a} ** {b} would have more than {MAX_INT_BITS:,} bits")
        return pow(a, b) if mod is None else pow(a, b, mod)

    def lshift(self, a: Any, b: Any) -> Any:
        if _is_int(a) and _is_int(b) and a and a.bit_length() + b > MAX_INT_BITS:
            raise LimitExceeded(f"{a} << {b} would have more than {MAX_INT_BITS:,} bits")
        return a << b

    def mod(self, a: Any, b: Any) -> Any:
        if isinstance(a, (str, bytes)):
            text = a.decode("latin-1") if isinstance(a, bytes) else a
            for width, precision in _PERCENT_SPEC.findall(text):
                for part in (width, precision):
                    if part == "*" or (part and int(part) > MAX_FORMAT_WIDTH):
                        raise LimitExceeded(f"'%' format width is over the limit of {MAX_FORMAT_WIDTH}")
        return a % b

    def binop(self, symbol: str, a: Any, b: Any) -> Any:
        """Apply a binary operator given as text ('+', '*=', ...), guarding the ones that can amplify."""
        return self.operators[symbol.removesuffix("=")](a, b)

    def range(self, *args: int) -> range:
        result = range(*args)
        if len(result) > MAX_LENGTH:
            raise LimitExceeded(f"range() of {len(result):,} numbers is over the limit of {MAX_LENGTH:,}")
        return result

    def sum(self, values: Iterable[Any], start: Any = 0) -> Any:
        # sum() of lists concatenates in C, out of reach of the other guards.
        if not isinstance(start, (int, float, complex)):
            raise LimitExceeded("sum() only adds numbers here; join lists or strings with a loop")
        total = start
        for value in values:
            if not isinstance(value, (int, float, complex)):
                raise LimitExceeded("sum() only adds numbers here; join lists or strings with a loop")
            total = self.add(total, value)
        return total

    def method(self, obj: Any, name: str, bound: Callable[..., Any]) -> Callable[..., Any]:
        """Wrap the string and list methods that can build results far larger than their inputs."""
        if isinstance(obj, (str, bytes)):
            if name in ("center", "ljust", "rjust", "zfill"):
                def padded(width: int, *rest: Any) -> Any:
                    self._count(width if _is_int(width) else 0)
                    return bound(width, *rest)
                return padded
            if name == "expandtabs":
                def expanded(tabsize: int = 8) -> Any:
                    self._count(len(obj) + obj.count("\t" if isinstance(obj, str) else b"\t") * max(tabsize, 0))
                    return bound(tabsize)
                return expanded
            if name == "replace":
                def replaced(old: Any, new: Any, count: int = -1) -> Any:
                    hits = obj.count(old) if old else len(obj) + 1
                    if count >= 0:
                        hits = min(hits, count)
                    self._count(len(obj) + hits * len(new))
                    return bound(old, new, count)
                return replaced
            if name == "join":
                def joined(items: Iterable[Any]) -> Any:
                    items = list(items)
                    self._count(sum(len(i) if hasattr(i, "__len__") else 0 for i in items)
                                + len(obj) * max(len(items) - 1, 0))
                    return bound(items)
                return joined
            if name == "translate":
                def translated(table: Any) -> Any:
                    widest = max((len(v) for v in table.values() if hasattr(v, "__len__")), default=1) \
                        if isinstance(table, dict) else 1
                    self._count(len(obj) * max(widest, 1))
                    return bound(table)
                return translated
        if isinstance(obj, list) and name == "extend":
            def extended(items: Iterable[Any]) -> None:
                items = list(items)
                self._count(len(obj) + len(items))
                bound(items)
            return extended
        return bound
