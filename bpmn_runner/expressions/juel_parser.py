"""Camunda 7 JUEL syntax: composite text cut into literals and `${...}` parts, each parsed into a tuple tree."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ._lexer import Cursor, tokenize
from ._problems import Problem

Node = tuple[Any, ...]

_OPERATORS = ("==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "?", ":", "+", "-", "*", "/", "%",
              "(", ")", "[", "]", ".", ",")
_NAME = r"[A-Za-z_$][A-Za-z0-9_$]*"
_KEYWORDS = frozenset({"and", "or", "not", "eq", "ne", "lt", "gt", "le", "ge", "empty", "div", "mod",
                       "true", "false", "null", "instanceof"})
_COMPARE = {"==": "==", "eq": "==", "!=": "!=", "ne": "!=", "<": "<", "lt": "<", ">": ">", "gt": ">",
            "<=": "<=", "le": "<=", ">=": ">=", "ge": ">="}


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
