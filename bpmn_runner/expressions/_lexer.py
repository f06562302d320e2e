"""A small tokenizer and token cursor shared by the JUEL and FEEL parsers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NoReturn

from ._problems import Problem

_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"'}
MAX_NESTING = 100


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # 'num', 'str', 'name', 'op' or 'end'
    text: str
    value: object
    pos: int


def tokenize(text: str, *, operators: tuple[str, ...], quotes: str, name_pattern: str,
             offset: int = 0) -> list[Token]:
    """Split `text` into tokens; operators are matched longest first; positions are shifted by `offset`."""
    ops = sorted(operators, key=len, reverse=True)
    name_re = re.compile(name_pattern)
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch in quotes:
            value, end = _read_string(text, i, offset)
            tokens.append(Token("str", text[i:end], value, i + offset))
            i = end
            continue
        if match := _NUMBER.match(text, i):
            literal = match.group()
            value: object = float(literal) if any(c in literal for c in ".eE") else int(literal)
            tokens.append(Token("num", literal, value, i + offset))
            i = match.end()
            continue
        if match := name_re.match(text, i):
            tokens.append(Token("name", match.group(), match.group(), i + offset))
            i = match.end()
            continue
        for op in ops:
            if text.startswith(op, i):
                tokens.append(Token("op", op, op, i + offset))
                i += len(op)
                break
        else:
            raise Problem(f"unexpected character {ch!r} at column {i + offset + 1}")
    tokens.append(Token("end", "", None, len(text) + offset))
    return tokens


def _read_string(text: str, start: int, offset: int) -> tuple[str, int]:
    quote = text[start]
    out: list[str] = []
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", text[i + 2:i + 6]):
                out.append(chr(int(text[i + 2:i + 6], 16)))
                i += 6
                continue
            out.append(_ESCAPES.get(nxt, "\\" + nxt))
            i += 2
            continue
        if ch == quote:
            return "".join(out), i + 1
        out.append(ch)
        i += 1
    raise Problem(f"string starting at column {start + offset + 1} is not closed")


class Cursor:
    """Walks a token list for a recursive-descent parser."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.i = 0
        self.depth = 0

    def peek(self, offset: int = 0) -> Token:
        return self.tokens[min(self.i + offset, len(self.tokens) - 1)]

    def next(self) -> Token:
        token = self.peek()
        self.i += 1
        return token

    def at(self, *texts: str) -> bool:
        """True if the current token is an operator or name spelled as one of `texts`."""
        token = self.peek()
        return token.kind in ("op", "name") and token.text in texts

    def accept(self, *texts: str) -> str | None:
        if self.at(*texts):
            return self.next().text
        return None

    def expect(self, text: str) -> Token:
        if not self.at(text):
            self.fail(f"expected '{text}'")
        return self.next()

    def fail(self, what: str) -> NoReturn:
        token = self.peek()
        if token.kind == "end":
            raise Problem(f"{what} but the expression ends")
        raise Problem(f"{what} but found '{token.text}' at column {token.pos + 1}")

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise Problem(f"expression is nested more than {MAX_NESTING} levels deep")

    def leave(self) -> None:
        self.depth -= 1
