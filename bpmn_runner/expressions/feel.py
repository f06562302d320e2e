"""Camunda 8 FEEL (`=...`): a subset parser and evaluator with FEEL's null semantics.

Missing variables: as in FEEL, a variable absent from the data reads as null, and null propagates (`null > 1` is
null, `null = 1` is false). So that a typo does not silently send a token down the default flow, a *condition* --
an expression whose outermost operator is a comparison, `in`, `between`, `and`, `or` or `not()` -- whose result
is not `true` after reading an absent top-level variable raises MissingVariableError instead. Comparing with the
literal null (`x = null`, `x != null`) is how to test for presence and never raises. Absent context keys
(`order.missing`) are plain null.

Supported: literals (numbers, "strings", true, false, null, lists, contexts `{a: 1, "b": 2}`, ranges `[1..5]`),
paths `a.b`, 1-based indexes `xs[1]` / `xs[-1]`, filters `xs[item > 2]` / `orders[amount > 10]`,
`+ - * / **`, comparisons, `and`/`or` (three-valued), `not()`, `if then else`, `in`, `between`, and the functions
in FUNCTIONS. Not supported: dates and times, `for`/`some`/`every`, user functions, backtick names.
"""

from __future__ import annotations

import inspect
import math
from functools import lru_cache
from typing import Any, Callable, Mapping

from ._lexer import Cursor, tokenize
from ._limits import MAX_INT_BITS, MAX_LENGTH
from ._problems import Missing, Problem

Node = tuple[Any, ...]

_OPERATORS = ("..", "<=", ">=", "!=", "**", "=", "<", ">", "+", "-", "*", "/", "(", ")", "[", "]", "{", "}",
              ",", ".", ":")
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_RESERVED = frozenset({"and", "or", "if", "then", "else", "in", "between", "true", "false", "null", "for",
                       "some", "every", "return", "satisfies", "function", "instance"})
_CONDITION_KINDS = frozenset({"cmp", "in", "between", "and", "or", "not"})


def _null_safe(fn: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(fn)

    def wrapper(*args: Any) -> Any:
        try:
            signature.bind(*args)
        except TypeError:
            raise Problem(f"wrong number of arguments ({len(args)})") from None
        if any(a is None for a in args):
            return None
        try:
            return fn(*args)
        except (TypeError, ValueError, AttributeError, IndexError):
            return None  # FEEL: a function applied to the wrong types gives null
    return wrapper


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _numbers(values: Any) -> list[int | float]:
    if not isinstance(values, list) or not all(_is_number(v) for v in values):
        raise TypeError("not a list of numbers")
    return values


def _items(args: tuple[Any, ...]) -> list[Any]:
    """min/max/sum accept a list or several arguments."""
    return args[0] if len(args) == 1 and isinstance(args[0], list) else list(args)


def _substring(s: str, start: int | float, length: int | float | None = None) -> str:
    begin = int(start) - 1 if start > 0 else len(s) + int(start)
    return s[begin:] if length is None else s[begin:begin + int(length)]


def to_string(value: Any) -> str | None:
    """FEEL's string(): null stays null, booleans are lower case, whole floats lose their '.0'."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str) else str(value)


def _to_number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)


def _decimal(n: int | float, scale: int) -> int | float:
    result = round(n, int(scale))
    return int(result) if scale <= 0 else result


def _flatten(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for v in values:
        out.extend(_flatten(v) if isinstance(v, list) else [v])
    return out


def _distinct(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for v in values:
        if v not in out:
            out.append(v)
    return out


def _bounded_list(values: list[Any]) -> list[Any]:
    if len(values) > MAX_LENGTH:
        raise Problem(f"the list would have more than {MAX_LENGTH:,} items")
    return values


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "string length": _null_safe(lambda s: len(s) if isinstance(s, str) else None),
    "upper case": _null_safe(lambda s: s.upper()),
    "lower case": _null_safe(lambda s: s.lower()),
    "substring": _null_safe(_substring),
    "contains": _null_safe(lambda s, sub: sub in s if isinstance(s, str) else None),
    "starts with": _null_safe(lambda s, prefix: s.startswith(prefix)),
    "ends with": _null_safe(lambda s, suffix: s.endswith(suffix)),
    "string": lambda v: to_string(v),
    "number": _null_safe(_to_number),
    "count": _null_safe(lambda xs: len(xs) if isinstance(xs, list) else None),
    "sum": _null_safe(lambda *a: sum(_numbers(_items(a)))),
    "min": _null_safe(lambda *a: min(_items(a)) if _items(a) else None),
    "max": _null_safe(lambda *a: max(_items(a)) if _items(a) else None),
    "mean": _null_safe(lambda *a: sum(_numbers(_items(a))) / len(_items(a)) if _items(a) else None),
    "list contains": _null_safe(lambda xs, v: v in xs if isinstance(xs, list) else None),
    "append": _null_safe(lambda xs, *v: _bounded_list(xs + list(v)) if isinstance(xs, list) else None),
    "concatenate": _null_safe(lambda *xs: _bounded_list([v for x in xs for v in x])
                              if all(isinstance(x, list) for x in xs) else None),
    "reverse": _null_safe(lambda xs: xs[::-1] if isinstance(xs, list) else None),
    "flatten": _null_safe(lambda xs: _flatten(xs) if isinstance(xs, list) else None),
    "distinct values": _null_safe(lambda xs: _distinct(xs) if isinstance(xs, list) else None),
    "string join": _null_safe(lambda xs, sep="": sep.join(x for x in xs if x is not None)),
    "abs": _null_safe(lambda n: abs(n) if _is_number(n) else None),
    "floor": _null_safe(lambda n: math.floor(n) if _is_number(n) else None),
    "ceiling": _null_safe(lambda n: math.ceil(n) if _is_number(n) else None),
    "decimal": _null_safe(_decimal),
    "modulo": _null_safe(lambda a, b: a % b if b else None),
    "get value": _null_safe(lambda ctx, key: ctx.get(key) if isinstance(ctx, dict) else None),
    "not": lambda b: (not b) if isinstance(b, bool) else None,
    "is defined": lambda v: v is not None,  # the evaluator special-cases this one for absent variables
}
_LONGEST_FUNCTION = max(len(name.split()) for name in FUNCTIONS)


# ---------------------------------------------------------------- parser


@lru_cache(maxsize=512)
def parse(expression: str) -> Node:
    """Parse FEEL source without the leading '='."""
    tokens = tokenize(expression, operators=_OPERATORS, quotes='"', name_pattern=_NAME)
    c = Cursor(tokens)
    if c.peek().kind == "end":
        raise Problem("the expression after '=' is empty")
    node = _expression(c)
    if c.peek().kind != "end":
        c.fail("expected an operator")
    return node


def _expression(c: Cursor) -> Node:
    c.enter()
    if c.accept("if"):
        test = _expression(c)
        c.expect("then")
        then = _expression(c)
        c.expect("else")
        node: Node = ("if", test, then, _expression(c))
    elif c.at("for", "some", "every"):
        raise Problem(f"'{c.peek().text}' expressions are not supported")
    else:
        node = _disjunction(c)
    c.leave()
    return node


def _disjunction(c: Cursor) -> Node:
    node = _conjunction(c)
    while c.accept("or"):
        node = ("or", node, _conjunction(c))
    return node


def _conjunction(c: Cursor) -> Node:
    node = _comparison(c)
    while c.accept("and"):
        node = ("and", node, _comparison(c))
    return node


def _comparison(c: Cursor) -> Node:
    node = _additive(c)
    if (op := c.accept("=", "!=", "<", "<=", ">", ">=")) is not None:
        return ("cmp", op, node, _additive(c))
    if c.accept("between"):
        low = _additive(c)
        c.expect("and")
        return ("between", node, low, _additive(c))
    if c.accept("in"):
        return ("in", node, _additive(c))
    return node


def _additive(c: Cursor) -> Node:
    node = _multiplicative(c)
    while (op := c.accept("+", "-")) is not None:
        node = ("arith", op, node, _multiplicative(c))
    return node


def _multiplicative(c: Cursor) -> Node:
    node = _power(c)
    while (op := c.accept("*", "/")) is not None:
        node = ("arith", op, node, _power(c))
    return node


def _power(c: Cursor) -> Node:
    node = _unary(c)
    while c.accept("**"):
        node = ("arith", "**", node, _unary(c))
    return node


def _unary(c: Cursor) -> Node:
    if c.accept("-"):
        return ("neg", _unary(c))
    return _postfix(c)


def _postfix(c: Cursor) -> Node:
    node = _primary(c)
    while True:
        if c.accept("."):
            token = c.next()
            if token.kind not in ("name", "str"):
                c.i -= 1
                c.fail("expected a name after '.'")
            node = ("path", node, token.value)
        elif c.accept("["):
            inner = _expression(c)
            c.expect("]")
            node = ("filter" if _is_filter(inner) else "index", node, inner)
        else:
            return node


def _is_filter(node: Node) -> bool:
    """A bracket holding a condition (or mentioning `item`) filters a list; anything else indexes it."""
    if node[0] in _CONDITION_KINDS or (node[0] == "lit" and isinstance(node[1], bool)):
        return True
    return "item" in _names(node, frozenset())


def _primary(c: Cursor) -> Node:
    token = c.peek()
    if token.kind in ("num", "str"):
        c.next()
        return ("lit", token.value)
    if c.accept("("):
        c.enter()
        first = _expression(c)
        if c.accept(".."):
            high = _expression(c)
            closing = c.accept(")", "]")
            if closing is None:
                c.fail("expected ')' or ']'")
            node = ("range", first, high, False, closing == "]")
        elif c.at(","):
            items = [first]
            while c.accept(","):
                items.append(_expression(c))
            c.expect(")")
            node = ("list", tuple(items))
        else:
            c.expect(")")
            node = first
        c.leave()
        return node
    if c.accept("["):
        return _list_or_range(c)
    if c.accept("{"):
        return _context(c)
    if token.kind == "name":
        literals = {"true": True, "false": False, "null": None}
        if token.text in literals:
            c.next()
            return ("lit", literals[token.text])
        for size in range(_LONGEST_FUNCTION, 0, -1):
            words = [c.peek(k) for k in range(size)]
            if all(w.kind == "name" for w in words) and c.peek(size).text == "(":
                name = " ".join(w.text for w in words)
                if name in FUNCTIONS:
                    c.i += size + 1
                    return ("fn", name, _arguments(c))
        if token.text in _RESERVED:
            c.fail("expected a value")
        c.next()
        if c.at("("):
            raise Problem(f"unknown function '{token.text}'")
        return ("name", token.text)
    c.fail("expected a value")


def _arguments(c: Cursor) -> tuple[Node, ...]:
    args: list[Node] = []
    if not c.accept(")"):
        args.append(_expression(c))
        while c.accept(","):
            args.append(_expression(c))
        c.expect(")")
    return tuple(args)


def _list_or_range(c: Cursor) -> Node:
    c.enter()
    items: list[Node] = []
    if not c.accept("]"):
        items.append(_expression(c))
        if c.accept(".."):
            high = _expression(c)
            closing = c.accept("]", ")")
            if closing is None:
                c.fail("expected ']' or ')'")
            c.leave()
            return ("range", items[0], high, True, closing == "]")
        while c.accept(","):
            items.append(_expression(c))
        c.expect("]")
    c.leave()
    return ("list", tuple(items))


def _context(c: Cursor) -> Node:
    c.enter()
    entries: list[tuple[str, Node]] = []
    if not c.accept("}"):
        while True:
            token = c.next()
            if token.kind == "str":
                key = str(token.value)
            elif token.kind == "name":
                words = [token.text]
                while c.peek().kind == "name":
                    words.append(c.next().text)
                key = " ".join(words)
            else:
                c.i -= 1
                c.fail("expected a context key")
            c.expect(":")
            entries.append((key, _expression(c)))
            if c.accept("}"):
                break
            c.expect(",")
    c.leave()
    return ("context", tuple(entries))


# ---------------------------------------------------------------- evaluation


class _Evaluator:
    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.scopes: list[Mapping[str, Any]] = []
        self.missing: list[str] = []
        self.absent = 0  # absent variables and context keys, for `is defined`
        self.filtering = 0  # inside a filter, an absent name is a missing field of the item, not a variable

    def lookup(self, name: str) -> Any:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        if name in self.data:
            return self.data[name]
        self.absent += 1
        if not self.filtering and name not in self.missing:
            self.missing.append(name)
        return None

    def eval(self, node: Node) -> Any:
        kind = node[0]
        if kind == "lit":
            return node[1]
        if kind == "name":
            return self.lookup(node[1])
        if kind == "path":
            return self.path(self.eval(node[1]), node[2])
        if kind == "index":
            return self.index(self.eval(node[1]), self.eval(node[2]))
        if kind == "filter":
            return self.filter(self.eval(node[1]), node[2])
        if kind == "list":
            return _bounded_list([self.eval(item) for item in node[1]])
        if kind == "context":
            return self.context(node[1])
        if kind == "range":
            return _Range(self.eval(node[1]), self.eval(node[2]), node[3], node[4])
        if kind == "fn":
            return self.call(node[1], node[2])
        if kind == "neg":
            value = self.eval(node[1])
            return -value if _is_number(value) else None
        if kind == "arith":
            return _arithmetic(node[1], self.eval(node[2]), self.eval(node[3]))
        if kind == "cmp":
            return _compare(node[1], self.eval(node[2]), self.eval(node[3]))
        if kind == "between":
            value = self.eval(node[1])
            low, high = self.eval(node[2]), self.eval(node[3])
            return _and(_compare(">=", value, low), _compare("<=", value, high))
        if kind == "in":
            return _member(self.eval(node[1]), self.eval(node[2]))
        if kind == "and":
            left = self.eval(node[1])
            if left is False:
                return False
            return _and(left, self.eval(node[2]))
        if kind == "or":
            left = self.eval(node[1])
            if left is True:
                return True
            return _or(left, self.eval(node[2]))
        if kind == "if":
            return self.eval(node[2]) if self.eval(node[1]) is True else self.eval(node[3])
        raise Problem(f"cannot evaluate node {kind}")  # unreachable unless the parser grows a node kind

    def path(self, base: Any, key: str) -> Any:
        if isinstance(base, dict):
            if key in base:
                return base[key]
            self.absent += 1
            return None
        if isinstance(base, list):
            return [self.path(item, key) for item in base]  # FEEL projects a path over a list
        return None

    @staticmethod
    def index(base: Any, position: Any) -> Any:
        if not isinstance(base, list) or not _is_number(position) or position != int(position):
            return None
        i = int(position)
        if 1 <= i <= len(base):
            return base[i - 1]
        if -len(base) <= i <= -1:
            return base[i]
        return None

    def filter(self, base: Any, condition: Node) -> Any:
        if base is None:
            return None
        items = base if isinstance(base, list) else [base]
        kept: list[Any] = []
        for item in items:
            scope = dict(item) if isinstance(item, dict) else {}
            scope["item"] = item
            self.scopes.append(scope)
            self.filtering += 1
            try:
                if self.eval(condition) is True:
                    kept.append(item)
            finally:
                self.scopes.pop()
                self.filtering -= 1
        return kept

    def context(self, entries: tuple[tuple[str, Node], ...]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        self.scopes.append(result)  # later entries may refer to earlier ones
        try:
            for key, value in entries:
                result[key] = self.eval(value)
        finally:
            self.scopes.pop()
        return result

    def call(self, name: str, arg_nodes: tuple[Node, ...]) -> Any:
        if name == "is defined":
            if len(arg_nodes) != 1:
                raise Problem("is defined() takes 1 argument")
            before, missing_before = self.absent, len(self.missing)
            self.eval(arg_nodes[0])
            defined = self.absent == before
            del self.missing[missing_before:]
            return defined
        args = [self.eval(a) for a in arg_nodes]
        try:
            return FUNCTIONS[name](*args)
        except TypeError:
            raise Problem(f"wrong number of arguments for {name}()") from None
        except Problem as exc:
            raise Problem(f"{name}(): {exc}") from None


class _Range:
    def __init__(self, low: Any, high: Any, low_closed: bool, high_closed: bool) -> None:
        self.low, self.high, self.low_closed, self.high_closed = low, high, low_closed, high_closed

    def contains(self, value: Any) -> bool | None:
        above = _compare(">=" if self.low_closed else ">", value, self.low)
        below = _compare("<=" if self.high_closed else "<", value, self.high)
        return _and(above, below)


def _and(a: Any, b: Any) -> bool | None:
    if a is False or b is False:
        return False
    if a is True and b is True:
        return True
    return None


def _or(a: Any, b: Any) -> bool | None:
    if a is True or b is True:
        return True
    if a is False and b is False:
        return False
    return None


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if _is_number(value):
        return "number"
    return type(value).__name__


def _compare(op: str, left: Any, right: Any) -> bool | None:
    if op in ("=", "!="):
        if left is None or right is None:
            equal: bool | None = left is None and right is None
        elif _kind(left) != _kind(right):
            return None
        else:
            equal = left == right
        return equal if op == "=" else not equal
    if left is None or right is None or _kind(left) != _kind(right) or _kind(left) not in ("number", "str"):
        return None
    return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]


def _member(value: Any, tests: Any) -> bool | None:
    if isinstance(tests, _Range):
        return tests.contains(value)
    if isinstance(tests, list):
        results = [t.contains(value) if isinstance(t, _Range) else _compare("=", value, t) for t in tests]
        return True if True in results else (None if None in results else False)
    return _compare("=", value, tests)


def _arithmetic(op: str, left: Any, right: Any) -> Any:
    if op == "+" and isinstance(left, str) and isinstance(right, str):
        if len(left) + len(right) > MAX_LENGTH:
            raise Problem(f"the text would be longer than {MAX_LENGTH:,} characters")
        return left + right
    if not (_is_number(left) and _is_number(right)):
        return None
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        if isinstance(left, int) and isinstance(right, int) and left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise Problem("the product is too large")
        return left * right
    if op == "/":
        if right == 0:
            return None
        result = left / right
        return int(result) if isinstance(left, int) and isinstance(right, int) and left % right == 0 else result
    if isinstance(left, int) and right > 0 and abs(left) > 1 and left.bit_length() * right > MAX_INT_BITS:
        raise Problem(f"{left} ** {right} is too large")
    try:
        return left ** right
    except (OverflowError, ZeroDivisionError):
        return None


def evaluate(expression: str, data: Mapping[str, Any]) -> Any:
    node = parse(expression)
    evaluator = _Evaluator(data)
    result = evaluator.eval(node)
    if isinstance(result, _Range):
        raise Problem("a range can only be used after 'in'")
    if (evaluator.missing and result is not True and _is_condition(node)
            and not (node[0] == "cmp" and node[1] in ("=", "!=") and ("lit", None) in node[2:])):
        raise Missing(evaluator.missing[0])
    return result


def _is_condition(node: Node) -> bool:
    return node[0] in _CONDITION_KINDS or (node[0] == "fn" and node[1] == "not")


# ---------------------------------------------------------------- names


def referenced_names(expression: str) -> set[str]:
    return _names(parse(expression), frozenset())


def _names(node: Node, bound: frozenset[str]) -> set[str]:
    kind = node[0]
    if kind == "lit":
        return set()
    if kind == "name":
        return set() if node[1] in bound else {node[1]}
    if kind == "path":
        return _names(node[1], bound)
    if kind == "filter":
        # Inside a filter, bare names are fields of the item; only the list itself is read from the data.
        return _names(node[1], bound)
    if kind == "context":
        found: set[str] = set()
        keys = set(bound)
        for key, value in node[1]:
            found |= _names(value, frozenset(keys))
            keys.add(key)
        return found
    if kind in ("list", "fn"):
        items = node[1] if kind == "list" else node[2]
        return set().union(*(_names(item, bound) for item in items)) if items else set()
    found = set()
    for child in node[1:]:
        if isinstance(child, tuple) and child and isinstance(child[0], str):
            found |= _names(child, bound)
    return found
