"""The small formatters the reports share: SVG numbers, durations, timestamps, JSON and wrapped SVG text."""

from __future__ import annotations

from datetime import datetime, timezone
import json
import math
from typing import Any, Iterable

from ..kinds import kind_words

__all__ = ["float_or_none", "format_duration", "format_json", "format_timestamp", "kind_words", "short_json",
           "svg_number", "text_block", "to_int", "wrap_text"]


def svg_number(value: float) -> str:
    """A coordinate for SVG: at most two decimals, no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text



def format_duration(ms: float | None, compact: bool = False) -> str:
    """`850 ms`, `2.4 s`, `3 min 20 s`, `5 h 2 min`, `3 d 4 h` (`3m20s` when compact)."""
    if ms is None or not math.isfinite(ms):
        return ""
    sp = "" if compact else " "
    if ms == 0:
        return f"0{sp}ms"
    if ms < 1:
        return f"{ms:.2f}{sp}ms"
    if ms < 1000:
        return f"{ms:.0f}{sp}ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f}{sp}s"
    minutes, sec = divmod(int(round(seconds)), 60)
    units = ("m", "s", "h", "d") if compact else ("min", "s", "h", "d")
    if minutes < 60:
        return f"{minutes}{sp}{units[0]}{sp}{sec}{sp}{units[1]}"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}{sp}{units[2]}{sp}{minutes}{sp}{units[0]}"
    days, hours = divmod(hours, 24)
    return f"{days}{sp}{units[3]}{sp}{hours}{sp}{units[2]}"


def format_timestamp(at: Any) -> str:
    try:
        return datetime.fromtimestamp(float(at), tz=timezone.utc).isoformat(timespec="milliseconds")
    except (TypeError, ValueError, OverflowError, OSError):
        return str(at) if at is not None else ""


def format_json(value: Any) -> str:
    try:
        return json.dumps(value, indent=2, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return repr(value)


def short_json(value: Any, limit: int = 300) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def wrap_text(text: str, width: float, font: float, max_lines: int | None = None) -> list[str]:
    """Greedy word wrap by an average character width; long words are cut; too many lines end with `…`."""
    max_chars = max(1, int(width / (font * 0.54)))
    lines: list[str] = []
    for paragraph in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        current = ""
        for word in _hyphen_split(paragraph.split(), max_chars):
            while len(word) > max_chars + max(2, max_chars // 3):  # cut only words far too long to overflow
                if current:
                    lines.append(current)
                    current = ""
                lines.append(word[:max_chars])
                word = word[max_chars:]
            candidate = f"{current} {word}" if current else word
            if len(candidate) <= max_chars:
                current = candidate
            else:
                if current:
                    lines.append(current)
                current = word
        if current:
            lines.append(current)
    if max_lines is not None and len(lines) > max_lines:
        lines = lines[: max(1, max_lines)]
        lines[-1] = lines[-1][: max(1, max_chars - 1)].rstrip() + "…"
    return lines


def _hyphen_split(words: list[str], max_chars: int) -> Iterable[str]:
    """Words too long for a line break after their hyphens first (`Sub-` / `Process`)."""
    for word in words:
        if len(word) <= max_chars or "-" not in word.strip("-"):
            yield word
            continue
        parts = word.split("-")
        chunk = ""
        for i, part in enumerate(parts):
            piece = part + ("-" if i < len(parts) - 1 else "")
            if chunk and len(chunk) + len(piece) > max_chars:
                yield chunk
                chunk = piece
            else:
                chunk += piece
        if chunk:
            yield chunk


def text_block(text: str, *, width: float, font: float, cls: str, cx: float | None = None, x: float | None = None,
          cy: float | None = None, top: float | None = None, anchor: str = "middle",
          max_lines: int | None = None, transform: str | None = None) -> dict[str, Any] | None:
    lines = wrap_text(text or "", width, font, max_lines)
    if not lines:
        return None
    height = font * 1.2
    if cy is not None:
        first = cy - (len(lines) - 1) * height / 2 + font * 0.35
    else:
        first = (top or 0.0) + font
    tx = cx if anchor == "middle" else x
    return {"cls": cls, "anchor": anchor, "transform": transform,
            "lines": [{"x": svg_number(tx or 0.0), "y": svg_number(first + i * height), "t": line}
                      for i, line in enumerate(lines)]}


# --- painting -----------------------------------------------------------------------------------------------


def to_int(value: Any) -> int:
    """An integer from a JSON value, 0 when it is none."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def float_or_none(value: Any) -> float | None:
    """A finite number from a JSON value, None when it is none."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
