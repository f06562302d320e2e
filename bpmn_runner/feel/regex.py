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
        if flag == "q":
            continue
        if flag not in _FLAGS:
            raise ValueError(f"unknown regular expression flag {flag!r}")
        options |= _FLAGS[flag]
    if "q" in (flags or ""):
        return re.compile(re.escape(pattern), options & ~re.VERBOSE)
    if options & re.VERBOSE:
        pattern = re.sub(r"\s+", "", pattern)
        options &= ~re.VERBOSE
    translated = _translate(pattern)
    try:
        return re.compile(translated, options)
    except re.error as error:
        raise ValueError(str(error)) from None


def _translate(pattern: str) -> str:
    """XPath differences: `$` is the end of the input, `\\p{..}` classes are approximated, `(?` is not allowed."""
    if "(?" in pattern:
        raise ValueError("(? is not allowed in an XPath regular expression")
    out, i, in_class = [], 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            if nxt in "pP" and i + 2 < len(pattern) and pattern[i + 2] == "{":
                close = pattern.find("}", i)
                out.append(_property_class(pattern[i + 3:close], nxt == "P", in_class))
                i = close + 1
                continue
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if ch == "[" and not in_class:
            in_class = True
        elif ch == "]" and in_class:
            in_class = False
        elif ch == "$" and not in_class:
            out.append(r"(?=\n?\Z)" if False else r"\Z")
            i += 1
            continue
        out.append(ch)
        i += 1
    return "".join(out)


_PROPERTIES = {"L": r"^\W\d_", "Lu": "A-Z", "Ll": "a-z", "N": r"\d", "Nd": r"\d", "P": r"!-/:-@\[-`{-~",
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
