"""Hardened XML parsing: no DTD, no entities, no network, bounded size and depth."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from ..errors import XmlError

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_DEPTH = 200
_XINCLUDE = "{http://www.w3.org/2001/XInclude}"


class _ExternalRefused(Exception):
    """Raised by `_RefuseExternal` to stop libxml2 from opening any file or URL named by the document."""


class _RefuseExternal(etree.Resolver):
    """lxml opens a DOCTYPE's external subset even with load_dtd=False; refuse every external load outright."""

    def resolve(self, system_url: str, public_id: str, context: object) -> None:
        raise _ExternalRefused(system_url)


def _parser() -> etree.XMLParser:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                             huge_tree=False, remove_comments=False, collect_ids=False)
    parser.resolvers.add(_RefuseExternal())
    return parser


def parse_bytes(content: bytes, display_name: str) -> etree._ElementTree:
    """Parse XML bytes into a tree, refusing anything hostile with one clear XmlError."""
    if len(content) > MAX_FILE_BYTES:
        raise XmlError(f"file is {len(content):,} bytes, over the {MAX_FILE_BYTES:,}-byte limit for a diagram",
                       file=display_name, line=1)
    if not content.strip():
        raise XmlError("file is empty; expected a BPMN or DMN XML document", file=display_name, line=1)
    if b"\x00" in content[:4096] and not content.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise XmlError("file is binary, not XML", file=display_name, line=1)
    _refuse_doctype(content, display_name)
    try:
        tree = etree.ElementTree(etree.fromstring(content, _parser()))
    except _ExternalRefused as exc:
        raise XmlError(_DOCTYPE_REFUSED, file=display_name, line=_doctype_line(content)) from exc
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or (exc.position[0] if exc.position else 1)
        message = " ".join((exc.msg.split(" (", 1)[0] if exc.msg else str(exc)).split())  # libxml2 adds newlines
        if "amplification" in message or "Detected an entity reference loop" in message:
            message = f"entity expansion refused ({message})"
        raise XmlError(f"not well-formed XML: {message}", file=display_name, line=line or 1) from exc
    except ValueError as exc:  # e.g. unicode strings with an encoding declaration
        raise XmlError(f"not well-formed XML: {exc}", file=display_name, line=1) from exc
    if tree.docinfo.doctype:  # one the quick scan of the head missed, e.g. after a long comment
        raise XmlError(_DOCTYPE_REFUSED, file=display_name, line=_doctype_line(content))
    _check_entities_and_depth(tree, display_name)
    return tree


def read_file_bytes(path: str | Path, display_name: str | None = None) -> bytes:
    """The bytes of one diagram file, refusing what is too large or cannot be read with one clear XmlError."""
    path = Path(path)
    name = display_name or str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise XmlError(f"file is {size:,} bytes, over the {MAX_FILE_BYTES:,}-byte limit for a diagram",
                           file=name, line=1)
        return path.read_bytes()
    except XmlError:
        raise
    except IsADirectoryError as exc:
        raise XmlError("is a directory, expected a .bpmn or .dmn file", file=name) from exc
    except OSError as exc:
        raise XmlError(f"cannot read file: {exc.strerror or exc}", file=name) from exc


def parse_file(path: str | Path, display_name: str | None = None) -> etree._ElementTree:
    """Read and parse one file with the limits of `parse_bytes`."""
    name = display_name or str(path)
    return parse_bytes(read_file_bytes(path, name), name)


_DOCTYPE_MARKERS = (b"<!DOCTYPE", b"<!doctype", b"<\x00!\x00D\x00O\x00C\x00")
_DOCTYPE_REFUSED = "a DOCTYPE is not allowed in a diagram (DTDs and entities are refused for safety)"


def _doctype_line(content: bytes) -> int:
    found = [i for i in (content.find(m) for m in _DOCTYPE_MARKERS) if i >= 0]
    return content[:min(found)].count(b"\n") + 1 if found else 1


def _refuse_doctype(content: bytes, name: str) -> None:
    head = content[:65536]
    for marker in _DOCTYPE_MARKERS:
        index = head.find(marker)
        if index >= 0:
            line = head[:index].count(b"\n") + 1
            raise XmlError(_DOCTYPE_REFUSED, file=name, line=line)
    if b"<!ENTITY" in content:
        line = content[:content.find(b"<!ENTITY")].count(b"\n") + 1
        raise XmlError("entity declarations are not allowed in a diagram", file=name, line=line)


# Something (an element, comment, processing instruction or entity) nested deeper than MAX_DEPTH.
_TOO_DEEP = etree.XPath("boolean(/*" + "/*" * (MAX_DEPTH - 1) + "/node()[not(self::text())])")


def _check_entities_and_depth(tree: etree._ElementTree, name: str) -> None:
    root = tree.getroot()
    # libxml2 answers whether anything is wrong; only then does the walk below find the first thing, to name it
    if not _TOO_DEEP(tree) and next(root.iter(etree.Entity), None) is None \
            and next(root.iter(f"{_XINCLUDE}*"), None) is None:
        return
    stack = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise XmlError(f"XML nesting is deeper than {MAX_DEPTH} levels; refusing the file",
                           file=name, line=element.sourceline or 1)
        if isinstance(element, etree._Entity):
            raise XmlError(f"entity reference &{element.name}; is not allowed", file=name,
                           line=element.sourceline or 1)
        if isinstance(element.tag, str) and element.tag.startswith(_XINCLUDE):
            raise XmlError("XInclude is not allowed in a diagram (it could pull in local files)", file=name,
                           line=element.sourceline or 1)
        for child in element:
            stack.append((child, depth + 1))
