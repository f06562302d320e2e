"""Camunda 7 JUEL (`${...}` / `#{...}`): parser and evaluator following the EL coercion rules.

Departures from Camunda: an unknown top-level variable, an absent map key and an out-of-range list index all raise
MissingVariableError (EL would return null for the last two); division or remainder by zero is an error rather
than Infinity; Java method calls are limited to `execution.getVariable/hasVariable/getVariables` and a few
String, List and Map methods.
"""

from __future__ import annotations

import contextvars
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, Callable, Iterator, Mapping

from ._lexer import Cursor, tokenize
from ._problems import Missing, Problem
from .el_coercion import arithmetic, compare, equals, to_bool, to_number, to_text
from .decision_result import RESULT_VIEWS
from .spin import Spin, describe_value

Node = tuple[Any, ...]

_OPERATORS = ("==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "?", ":", "+", "-", "*", "/", "%",
              "(", ")", "[", "]", ".", ",")
_NAME = r"[A-Za-z_$][A-Za-z0-9_$]*"
_KEYWORDS = frozenset({"and", "or", "not", "eq", "ne", "lt", "gt", "le", "ge", "empty", "div", "mod",
                       "true", "false", "null", "instanceof"})
_COMPARE = {"==": "==", "eq": "==", "!=": "!=", "ne": "!=", "<": "<", "lt": "<", ">": ">", "gt": ">",
            "<=": "<=", "le": "<=", ">=": ">=", "ge": ">="}


_INFO: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar("juel_execution_info", default={})
# execution.<property> (and get<Property>()) -> the key of the running execution's facts
_EXECUTION_FACTS = {"processBusinessKey": "businessKey", "businessKey": "businessKey",
                    "processInstanceId": "instanceId", "id": "instanceId", "currentActivityId": "elementId",
                    "activityId": "elementId", "eventName": "eventName"}


@contextmanager
def execution_info(info: Mapping[str, Any]) -> Iterator[None]:
    """Facts about the running execution that `execution.processBusinessKey` and friends read while evaluating."""
    token = _INFO.set(info)
    try:
        yield
    finally:
        _INFO.reset(token)


# `${bean.method(args)}` where `bean` is no variable: a resolver (handler name, arguments) -> (found, value) that calls
# the handler registered as "bean.method", as Camunda calls the bean's method
BeanResolver = Callable[[str, list[Any]], tuple[bool, Any]]
_BEANS: contextvars.ContextVar[BeanResolver | None] = contextvars.ContextVar("juel_beans", default=None)


@contextmanager
def bean_calls(resolver: BeanResolver | None) -> Iterator[None]:
    """While evaluating, `${bean.method(a, b)}` calls `resolver("bean.method", [a, b])` when `bean` is no variable."""
    token = _BEANS.set(resolver)
    try:
        yield
    finally:
        _BEANS.reset(token)


def current_execution_info() -> Mapping[str, Any]:
    """The facts `execution_info` set for the expression or script being evaluated (for JavaScript's execution)."""
    return dict(_INFO.get())


class _Execution:
    """Stands for Camunda's `execution` object: its variable accessors and a few facts (business key, ids)."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data

    def fact(self, name: str) -> tuple[bool, Any]:
        """(known, value) of a fact of the running execution; nothing is known outside one."""
        key = _EXECUTION_FACTS.get(name)
        info = _INFO.get()
        if key is None or not info:
            return False, None
        return True, info.get(key)


# ---------------------------------------------------------------- composite text


@lru_cache(maxsize=512)
def split(text: str) -> tuple[tuple[str, Node | None], ...]:
    """Cut `text` into (literal text, None) and (source, parsed expression) parts."""
    parts: list[tuple[str, Node | None]] = []
    literal: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith(("\\${", "\\#{"), i):
            literal.append(text[i + 1:i + 3])
            i += 3
            continue
        if text.startswith(("${", "#{"), i):
            end = _closing_brace(text, i + 2)
            if literal:
                parts.append(("".join(literal), None))
                literal = []
            parts.append((text[i:end + 1], parse(text[i + 2:end], offset=i + 2)))
            i = end + 1
            continue
        literal.append(text[i])
        i += 1
    if literal:
        parts.append(("".join(literal), None))
    return tuple(parts)


def _closing_brace(text: str, start: int) -> int:
    quote = ""
    i = start
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "}":
            return i
        i += 1
    raise Problem(f"'{text[start - 2:start]}' at column {start - 1} has no closing '}}'")


# ---------------------------------------------------------------- parser


def parse(source: str, offset: int = 0) -> Node:
    tokens = tokenize(source, operators=_OPERATORS, quotes="'\"", name_pattern=_NAME, offset=offset)
    cursor = Cursor(tokens)
    if cursor.peek().kind == "end":
        raise Problem("the expression inside ${} is empty")
    node = _ternary(cursor)
    if cursor.peek().kind != "end":
        cursor.fail("expected an operator")
    return node


def _ternary(c: Cursor) -> Node:
    c.enter()
    test = _binary(c, 0)
    if c.accept("?"):
        then = _ternary(c)
        c.expect(":")
        test = ("cond", test, then, _ternary(c))
    c.leave()
    return test


# Binary precedence levels, loosest first.
_LEVELS: tuple[dict[str, str], ...] = (
    {"||": "or", "or": "or"},
    {"&&": "and", "and": "and"},
    {k: v for k, v in _COMPARE.items() if v in ("==", "!=")},
    {k: v for k, v in _COMPARE.items() if v not in ("==", "!=")},
    {"+": "+", "-": "-"},
    {"*": "*", "/": "/", "div": "/", "%": "%", "mod": "%"},
)


def _binary(c: Cursor, level: int) -> Node:
    if level == len(_LEVELS):
        return _unary(c)
    ops = _LEVELS[level]
    left = _binary(c, level + 1)
    while (text := c.accept(*ops)) is not None:
        right = _binary(c, level + 1)
        op = ops[text]
        left = (op, left, right) if op in ("and", "or") else ("bin", op, left, right)
    return left


def _unary(c: Cursor) -> Node:
    if c.accept("-"):
        return ("neg", _unary(c))
    if c.accept("!", "not"):
        return ("not", _unary(c))
    if c.accept("empty"):
        return ("empty", _unary(c))
    return _postfix(c)


def _postfix(c: Cursor) -> Node:
    node = _primary(c)
    while True:
        if c.accept("."):
            token = c.next()
            if token.kind != "name":
                c.i -= 1
                c.fail("expected a property name after '.'")
            if c.accept("("):
                node = ("call", node, token.text, _arguments(c))
            else:
                node = ("prop", node, token.text)
        elif c.accept("["):
            c.enter()
            node = ("index", node, _ternary(c))
            c.leave()
            c.expect("]")
        else:
            return node


def _arguments(c: Cursor) -> tuple[Node, ...]:
    args: list[Node] = []
    if not c.accept(")"):
        args.append(_ternary(c))
        while c.accept(","):
            args.append(_ternary(c))
        c.expect(")")
    return tuple(args)


def _primary(c: Cursor) -> Node:
    token = c.peek()
    if token.kind in ("num", "str"):
        c.next()
        return ("lit", token.value)
    if c.accept("("):
        c.enter()
        node = _ternary(c)
        c.leave()
        c.expect(")")
        return node
    if token.kind == "name":
        literals = {"true": True, "false": False, "null": None}
        if token.text in literals:
            c.next()
            return ("lit", literals[token.text])
        if token.text in _KEYWORDS:
            c.fail("expected a value")
        c.next()
        if c.at(":") and c.peek(1).kind == "name" and c.peek(2).text == "(":
            raise Problem(f"EL functions such as '{token.text}:{c.peek(1).text}()' are not supported")
        if c.at("(") and token.text in ("S", "JSON"):  # Camunda Spin's entry functions
            c.next()
            return ("spin", _arguments(c))
        if c.at("("):
            raise Problem(f"the function '{token.text}()' is not supported")
        return ("name", token.text)
    c.fail("expected a value")


# ---------------------------------------------------------------- evaluation


def evaluate(text: str, data: Mapping[str, Any]) -> Any:
    """A single `${...}` gives its value; text with embedded expressions gives a string."""
    parts = split(text.strip())
    if len(parts) == 1 and parts[0][1] is not None:
        return _value(_eval(parts[0][1], data))
    parts = split(text)
    return "".join(literal if node is None else to_text(_value(_eval(node, data))) for literal, node in parts)


def evaluate_condition(text: str, data: Mapping[str, Any]) -> bool:
    """A whole `${...}` condition, as Camunda 7 takes it: the value must be a Boolean, never coerced."""
    result = evaluate(text, data)
    if result is None:
        raise Problem("condition expression returns null")
    if not isinstance(result, bool):
        raise Problem(f"condition expression returns non-Boolean: {to_text(result)!r} is {describe_value(result)}")
    return result


def _value(result: Any) -> Any:
    if isinstance(result, (Spin, *RESULT_VIEWS)):
        return result.value
    if isinstance(result, _Execution):
        raise Problem("'execution' can only be used to call getVariable(), hasVariable() or getVariables()")
    return result


def _eval(node: Node, data: Mapping[str, Any]) -> Any:
    kind = node[0]
    if kind == "lit":
        return node[1]
    if kind == "name":
        name = node[1]
        if name in data:
            return data[name]
        if name == "execution":
            return _Execution(data)
        raise Missing(name)
    if kind == "prop":
        base = _eval(node[1], data)
        return _property(base, node[2], node)
    if kind == "index":
        base = _eval(node[1], data)
        return _index(base, _eval(node[2], data), node)
    if kind == "call":
        target = node[1]
        resolver = _BEANS.get()
        if resolver is not None and target[0] == "name" and target[1] not in data and target[1] != "execution":
            found, value = resolver(f"{target[1]}.{node[2]}", [_eval(a, data) for a in node[3]])
            if found:
                return value
        return _call(_eval(node[1], data), node[2], [_eval(a, data) for a in node[3]], node)
    if kind == "spin":
        if len(node[1]) != 1:
            raise Problem("S() takes one argument")
        return Spin.of(_eval(node[1][0], data))
    if kind == "and":
        return to_bool(_eval(node[1], data)) and to_bool(_eval(node[2], data))
    if kind == "or":
        return to_bool(_eval(node[1], data)) or to_bool(_eval(node[2], data))
    if kind == "not":
        return not to_bool(_eval(node[1], data))
    if kind == "empty":
        value = _eval(node[1], data)
        return value is None or (isinstance(value, (str, list, dict, tuple, set)) and len(value) == 0)
    if kind == "neg":
        value = to_number(_eval(node[1], data))
        return -value
    if kind == "cond":
        return _eval(node[2], data) if to_bool(_eval(node[1], data)) else _eval(node[3], data)
    if kind == "bin":
        op = node[1]
        left, right = _eval(node[2], data), _eval(node[3], data)
        if op in ("==", "!="):
            equal = equals(left, right)
            return equal if op == "==" else not equal
        if op in ("<", ">", "<=", ">="):
            return compare(op, left, right)
        return arithmetic(op, left, right)
    raise Problem(f"cannot evaluate node {kind}")  # unreachable unless the parser grows a node kind


def path_text(node: Node) -> str:
    kind = node[0]
    if kind == "name":
        return node[1]
    if kind == "prop":
        return f"{path_text(node[1])}.{node[2]}"
    if kind == "index":
        key = node[2]
        inner = repr(key[1]) if key[0] == "lit" else "…"
        return f"{path_text(node[1])}[{inner}]"
    if kind == "call":
        return f"{path_text(node[1])}.{node[2]}()"
    return "(…)"


def _property(base: Any, name: str, node: Node) -> Any:
    if base is None:
        return None  # EL: a property of null is null
    if isinstance(base, dict):
        if name in base:
            return base[name]
        raise Missing(path_text(node))
    if isinstance(base, _Execution):
        known, value = base.fact(name)
        if known:
            return value
        raise Problem(f"execution.{name} is not available; use execution.getVariable('name')")
    if isinstance(base, RESULT_VIEWS):
        return base.property(name)
    raise Problem(f"{path_text(node[1])} is {describe_value(base)}, which has no property '{name}'")


def _index(base: Any, key: Any, node: Node) -> Any:
    if base is None:
        return None
    if isinstance(base, dict):
        if key in base:
            return base[key]
        if str(key) in base:
            return base[str(key)]
        raise Missing(path_text(node))
    if isinstance(base, (list, tuple, str)):
        index = to_number(key)
        if not isinstance(index, int):
            raise Problem(f"{path_text(node[1])} needs a whole-number index, not {key!r}")
        if 0 <= index < len(base):
            return base[index]
        raise Missing(path_text(node))
    raise Problem(f"{path_text(node[1])} is {describe_value(base)}, which cannot be indexed")


def _call(target: Any, method: str, args: list[Any], node: Node) -> Any:
    def arity(n: int) -> None:
        if len(args) != n:
            raise Problem(f"{method}() takes {n} argument{'s' if n != 1 else ''}, {len(args)} given")

    if isinstance(target, (Spin, *RESULT_VIEWS)):
        return target.call(method, args)
    if isinstance(target, _Execution):
        if method in ("getVariable", "getVariableLocal"):
            arity(1)
            return target.data.get(str(args[0]))
        if method in ("hasVariable", "hasVariableLocal"):
            arity(1)
            return str(args[0]) in target.data
        if method in ("getVariables", "getVariablesLocal"):
            arity(0)
            return dict(target.data)
        if method.startswith("get") and len(method) > 3:
            known, value = target.fact(method[3].lower() + method[4:])
            if known:
                arity(0)
                return value
        raise Problem(f"execution.{method}() is not available; only getVariable, hasVariable and getVariables")
    table: dict[str, Callable[..., Any]] | None = None
    if isinstance(target, str):
        table = {"length": lambda: len(target), "isEmpty": lambda: not target,
                 "startsWith": lambda s: target.startswith(to_text(s)),
                 "endsWith": lambda s: target.endswith(to_text(s)), "contains": lambda s: to_text(s) in target,
                 "equals": lambda s: target == s, "equalsIgnoreCase": lambda s: target.lower() == to_text(s).lower(),
                 "toUpperCase": target.upper, "toLowerCase": target.lower, "trim": target.strip,
                 "indexOf": lambda s: target.find(to_text(s)),
                 "substring": lambda start, end=None: target[start:end]}
    elif isinstance(target, (list, tuple)):
        table = {"size": lambda: len(target), "isEmpty": lambda: not target, "contains": lambda v: v in target,
                 "get": lambda i: _index(target, i, ("index", node[1], ("lit", i)))}
    elif isinstance(target, dict):
        table = {"size": lambda: len(target), "isEmpty": lambda: not target,
                 "containsKey": lambda k: k in target, "get": target.get}
    if target is None:
        raise Problem(f"cannot call {method}() because {path_text(node[1])} is null")
    if table is None or method not in table:
        raise Problem(f"the method {method}() is not available on {describe_value(target)}")
    try:
        return table[method](*args)
    except TypeError:
        raise Problem(f"wrong number or type of arguments for {method}()") from None


# ---------------------------------------------------------------- names


def referenced_names(text: str) -> set[str]:
    """Top-level variables read, including the literal argument of execution.getVariable('x')."""
    names: set[str] = set()
    for _, node in split(text):
        if node is not None:
            _collect(node, names)
    return names


def _collect(node: Node, names: set[str]) -> None:
    kind = node[0]
    if kind == "name":
        if node[1] != "execution":
            names.add(node[1])
        return
    if kind == "call" and node[1] == ("name", "execution") and node[2] in ("getVariable", "getVariableLocal",
                                                                          "hasVariable", "hasVariableLocal"):
        if node[3] and node[3][0][0] == "lit" and isinstance(node[3][0][1], str):
            names.add(node[3][0][1])
    for child in node[1:]:
        if isinstance(child, tuple) and child and isinstance(child[0], str):
            _collect(child, names)
        elif isinstance(child, tuple):
            for item in child:
                if isinstance(item, tuple):
                    _collect(item, names)
