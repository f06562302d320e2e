"""A diagram file as the reports see it: the loader's `Document` with its semantics and drawing.

The semantics (`loader.semantics`), the DI (`loader.di`) and the generated layout (`loader.layout`) each live in
their own module; this one reads a file for a report (leniently: draft BPMN namespaces are drawn too) and
re-exports the plain models the SVG code draws. No Jinja and no markup here.
"""

from __future__ import annotations

from pathlib import Path

from .loader.di import Bounds, Diagram, Edge, Shape
from .loader.documents import Document, read_source
from .loader.layout import generate_layout
from .loader.semantics import ElementInfo
from .loader.xml import read_file_bytes

__all__ = ["Bounds", "Diagram", "Document", "Edge", "ElementInfo", "Shape", "generate_layout", "read_document",
           "report_document"]


def read_document(path: str | Path, *, layout_missing: bool = True) -> Document:
    """Read one BPMN file's semantic elements and every diagram plane, named by its file name.

    Raises `XmlError` for files the hardened parser refuses and `DefinitionError` for XML that is not BPMN."""
    path = Path(path)
    document = read_source(path.name, read_file_bytes(path, str(path)), path=path, lenient=True)
    if not layout_missing:
        document.drawing = document.draw(layout_missing=False)
    return document


def report_document(document: Document) -> Document:
    """The document a report draws: a fresh read of `document`'s own bytes (a loaded document's tree has been
    normalized for the engine), named as the loaded one is."""
    return read_source(document.name, document.content, path=document.path, lenient=True)
