"""XPath/XML Schema regular expressions (used by matches, replace, split) translated to Python's `re`."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable

_FLAGS = {"i": re.IGNORECASE, "s": re.DOTALL, "m": re.MULTILINE, "x": re.VERBOSE}


@lru_cache(maxsize=256)
def compile_xpath_regex(pattern: str, flags: str | None) -> re.Pattern[str]:
    """Compile an XPath regex with its flags ("i", "s", "m", "x", "q"); ValueError on an invalid pattern or flag."""
    options = 0
    for flag in flags or "":
        if flag not in _FLAGS and flag != "q":
            raise ValueError(f"unknown regular expression flag {flag!r}")
        if flag in _FLAGS and flag != "x":
            options |= _FLAGS[flag]
    if "q" in (flags or ""):
        return re.compile(re.escape(pattern), options)
    if "x" in (flags or ""):
        pattern = _strip_white_space(pattern)
    translated = _translate(pattern, dot_all="s" in (flags or ""), multiline="m" in (flags or ""),
                            extended="x" in (flags or ""))
    try:
        return re.compile(translated, options)
    except re.error as error:
        raise ValueError(str(error)) from None


def _strip_white_space(pattern: str) -> str:
    """Flag "x": white space is removed except inside character classes."""
    out, in_class, escaped = [], False, False
    for ch in pattern:
        if ch.isspace() and not in_class:
            continue
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "[":
            in_class = True
        elif ch == "]":
            in_class = False
        elif ch.isspace() and not in_class:
            continue
        out.append(ch)
    return "".join(out)


_SUBTRACTION = re.compile(r"\[((?:\\.|[^\[\]\\])*)-\[((?:\\.|[^\[\]\\])*)\]\]")


def _translate(pattern: str, *, dot_all: bool, multiline: bool, extended: bool) -> str:
    """XPath differences: `$` is the end of the input, `.` excludes CR, `\\p{..}` classes, `[a-z-[aeiou]]`."""
    if "(?" in pattern:
        raise ValueError("(? is not allowed in an XPath regular expression")
    out, i, in_class = [], 0, False
    while i < len(pattern):
        ch = pattern[i]
        if extended and ch.isspace() and not in_class:
            i += 1
            continue
        if ch == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            if nxt in "pP" and i + 2 < len(pattern) and pattern[i + 2] == "{":
                close = pattern.find("}", i)
                name = pattern[i + 3:close]
                if extended:
                    name = "".join(name.split())
                out.append(_property_class(name, nxt == "P", in_class))
                i = close + 1
                continue
            if nxt.isdigit() and (in_class or nxt == "0"):
                raise ValueError("back reference not allowed here")
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if ch == "[" and not in_class:
            match = _SUBTRACTION.match(pattern, i)
            if match:
                out.append(f"(?:(?![{match.group(2)}])[{match.group(1)}])")
                i = match.end()
                continue
            in_class = True
        elif ch == "]" and in_class:
            in_class = False
        elif ch == "$" and not in_class and not multiline:
            out.append(r"(?!(?s:.))")
            i += 1
            continue
        elif ch == "." and not in_class and not dot_all:
            out.append(r"[^\n\r]")
            i += 1
            continue
        out.append(ch)
        i += 1
    return "".join(out)


_PROPERTIES = {"IsBasicLatin": r"\x00-\x7F", "IsLatin-1Supplement": r"\x80-\xFF", "L": r"^\W\d_", "Lu": "A-Z", "Ll": "a-z", "N": r"\d", "Nd": r"\d", "P": r"!-/:-@\[-`{-~",
               "Z": r"\s", "Zs": " "}


def _property_class(name: str, negated: bool, in_class: bool) -> str:
    body = _PROPERTIES.get(name)
    if body is None:
        raise ValueError(f"unsupported character property \\p{{{name}}}")
    if body.startswith("^"):
        inner = body[1:]
        if in_class:
            raise ValueError("\\p{L} inside a character class is not supported")
        return f"[{inner}]" if negated else f"[^{inner}]"
    if in_class:
        if negated:
            raise ValueError("\\P{..} inside a character class is not supported")
        return body
    return f"[^{body}]" if negated else f"[{body}]"


def expand_replacement(replacement: str, literal: bool) -> Callable[[re.Match[str]], str]:
    """An XPath replacement string (`$1` groups, `\\$` and `\\\\` escapes) as a function for `re.sub`."""
    if literal:
        return lambda match: replacement
    parts: list[str | int] = []
    i = 0
    while i < len(replacement):
        ch = replacement[i]
        if ch == "\\":
            if i + 1 >= len(replacement) or replacement[i + 1] not in "\\$":
                raise ValueError("invalid escape in replacement")
            parts.append(replacement[i + 1])
            i += 2
        elif ch == "$":
            match = re.match(r"\d+", replacement[i + 1:])
            if not match:
                raise ValueError("$ must be followed by a group number")
            parts.append(int(match.group()))
            i += 1 + len(match.group())
        else:
            parts.append(ch)
            i += 1

    def expand(match: re.Match[str]) -> str:
        return "".join(p if isinstance(p, str) else (match.group(p) or "") if p <= (match.re.groups or 0) else ""
                       for p in parts)
    return expand
