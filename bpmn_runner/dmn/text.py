"""Small text helpers shared by the table evaluator and the static checks."""

from __future__ import annotations

from .model import Rule


def rule_label(rule: Rule, index: int) -> str:
    return rule.id or f"rule {index + 1}"


def split_top_level(text: str) -> list[str]:
    """`"a","b", [1..2]` -> ['"a"', '"b"', '[1..2]']: the comma-separated parts outside quotes and brackets."""
    parts: list[str] = []
    depth = 0
    quoted = False
    start = 0
    index = 0
    while index < len(text):
        char = text[index]
        if quoted:
            if char == "\\":
                index += 1
            elif char == '"':
                quoted = False
        elif char == '"':
            quoted = True
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth <= 0:
            parts.append(text[start:index].strip())
            start = index + 1
        index += 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]
