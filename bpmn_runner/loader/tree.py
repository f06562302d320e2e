"""Small readers over the ElementTree API shared by the semantic and DI readers (no lxml import needed)."""

from __future__ import annotations

import math
from typing import Any, Iterator

from ..namespaces import is_bpmn_namespace


def split_tag(tag: Any) -> tuple[str | None, str]:
    """(namespace, local name) of a tag; (None, "") for comments and processing instructions."""
    if not isinstance(tag, str):
        return None, ""
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return None, tag


def local_name(element: Any) -> str:
    return split_tag(element.tag)[1]


def children(element: Any, local: str | None = None) -> Iterator[Any]:
    """Element children (any namespace), optionally only those with one local name."""
    for child in element:
        if not isinstance(child.tag, str):
            continue
        if local is None or split_tag(child.tag)[1] == local:
            yield child


def bpmn_children(element: Any, local: str) -> Iterator[Any]:
    for child in element:
        ns, name = split_tag(child.tag)
        if name == local and is_bpmn_namespace(ns):
            yield child


def text_of(element: Any) -> str:
    return "".join(element.itertext()).strip() if element is not None else ""


def to_float(value: str | None) -> float:
    """A finite number from an attribute, 0.0 when it is missing or not a number."""
    try:
        number = float(value) if value is not None else 0.0
    except ValueError:
        return 0.0
    return number if math.isfinite(number) else 0.0


def to_bool(value: str | None) -> bool | None:
    if value is None:
        return None
    return value.strip().lower() in ("true", "1")


def reference(value: str | None) -> str | None:
    """A reference attribute, trimmed; `ElementIndex.resolve` then accepts both `tns:Foo` and `Foo`."""
    if not value:
        return None
    return value.strip()
