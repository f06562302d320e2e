"""FEEL tokenizer: numbers, strings with escapes, names, operators and comments (DMN 1.5 10.3.1.2 grammar)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import FeelSyntaxError

_NUMBER = re.compile(r"(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?")
_NAME_START = re.compile(r"[?A-Za-z_\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D"
                         r"\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD\U00010000-\U000EFFFF]")
_NAME = re.compile(_NAME_START.pattern + _NAME_START.pattern[:-1] + r"0-9\u00B7\u0300-\u036F\u203F-\u2040]*")
_OPERATORS = ("..", "<=", ">=", "!=", "**", "=", "<", ">", "+", "-", "*", "/", "(", ")", "[", "]", "{", "}",
              ",", ".", ":", "'", "@", "`")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "b": "\b", "f": "\f"}
_HEX = re.compile(r"[0-9A-Fa-f]+")


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # 'num', 'str', 'name', 'op' or 'end'
    text: str
    pos: int   # 0-based offset in the source
    end: int
    value: object = None


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, length = 0, len(text)
    while i < length:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if text.startswith("//", i):
            newline = text.find("\n", i)
            i = length if newline < 0 else newline + 1
            continue
        if text.startswith("/*", i):
            close = text.find("*/", i + 2)
            if close < 0:
                raise FeelSyntaxError("unterminated comment", text, i)
            i = close + 2
            continue
        if ch == '"':
            value, end = _read_string(text, i)
            tokens.append(Token("str", text[i:end], i, end, value))
            i = end
            continue
        if ch == "`":
            close = text.find("`", i + 1)
            if close < 0:
                raise FeelSyntaxError("unterminated `name`", text, i)
            tokens.append(Token("name", text[i + 1:close], i, close + 1, "quoted"))
            i = close + 1
            continue
        if (ch.isdigit() or (ch == "." and i + 1 < length and text[i + 1].isdigit()
                             and not (tokens and tokens[-1].text == ".."))):
            match = _NUMBER.match(text, i)
            if match:
                literal = match.group()
                tokens.append(Token("num", literal, i, i + len(literal)))
                i += len(literal)
                continue
        if match := _NAME.match(text, i):
            tokens.append(Token("name", match.group(), i, match.end()))
            i = match.end()
            continue
        for op in _OPERATORS:
            if text.startswith(op, i):
                tokens.append(Token("op", op, i, i + len(op)))
                i += len(op)
                break
        else:
            raise FeelSyntaxError(f"unexpected character {ch!r}", text, i)
    tokens.append(Token("end", "", length, length))
    return tokens


def _read_string(text: str, start: int) -> tuple[str, int]:
    out: list[str] = []
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == '"':
            return _join_surrogates("".join(out)), i + 1
        if ch == "\\" and i + 1 < len(text):
            code = text[i + 1]
            if code in ("u", "U"):
                width = 4 if code == "u" else 8
                match = _HEX.match(text, i + 2, i + 2 + width)
                if not match or (code == "u" and len(match.group()) != 4) or len(match.group()) < 4:
                    raise FeelSyntaxError("a \\u escape needs 4 hex digits (\\U up to 8)", text, i)
                out.append(chr(int(match.group(), 16)) if int(match.group(), 16) <= 0x10FFFF else "\ufffd")
                i = match.end()
                continue
            if code in _ESCAPES:
                out.append(_ESCAPES[code])
                i += 2
                continue
            out.append(ch)
            i += 1
            continue
        out.append(ch)
        i += 1
    raise FeelSyntaxError("the string is not closed", text, start)


def _join_surrogates(value: str) -> str:
    if not any("\ud800" <= c <= "\udfff" for c in value):
        return value
    return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
