"""The document model: one BPMN or DMN file with its bytes, parsed tree, kind, dialect, id-to-line index,
semantics and drawing; and finding such files in folders.

A `Document` is read once from its bytes (`read_source`) or its file (`read_document`). Everything else reads the
same object: the engine loader builds specs from `tree`, the linter walks `root`, reports and coverage read
`semantics` and `drawing` (computed on first use), and the store saves `content`, the exact bytes that were read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from lxml import etree

from ..errors import DefinitionError, XmlError
from ..namespaces import BPMN_NS, DMN_NAMESPACES, bpmn_tag, dialect_of, is_bpmn_namespace, note_namespaces
from .drawing import DMN_NOTE, Drawing, read_drawing
from .di import Diagram
from .semantics import ElementInfo, Semantics, read_semantics
from .xml import parse_bytes, read_file_bytes

DIAGRAM_SUFFIXES = (".bpmn", ".bpmn2", ".dmn", ".xml")

__all__ = ["DMN_NAMESPACES", "DIAGRAM_SUFFIXES", "Document", "display_name", "expand_paths", "read_document",
           "read_documents", "read_source", "sibling_candidates"]


@dataclass(eq=False)
class Document:
    """One loaded file: its bytes, its parsed tree, its kind and where each id sits."""

    path: Path
    name: str
    tree: etree._ElementTree
    kind: str                     # bpmn | dmn
    dialect: str                  # camunda7 | camunda8 | spiff | bpmn (dmn files: bpmn)
    lines: dict[str, int] = field(default_factory=dict)
    content: bytes = b""          # the file's bytes exactly as read (what the store saves)

    @property
    def root(self) -> etree._Element:
        return self.tree.getroot()

    def line_of(self, element_id: str | None) -> int | None:
        return self.lines.get(element_id or "")

    def element(self, element_id: str) -> etree._Element | None:
        found = self.root.xpath("//*[@id=$i]", i=element_id)
        return found[0] if found else None

    def process_ids(self) -> list[str]:
        return [p.get("id") for p in self.root.iter(bpmn_tag("process")) if p.get("id")]

    def decision_ids(self) -> list[str]:
        return [d.get("id") for d in self.root.iter() if isinstance(d.tag, str)
                and etree.QName(d).localname == "decision" and d.get("id")]

    def dmn_namespace(self) -> str | None:
        return self.root.get("namespace") if self.kind == "dmn" else None

    def dmn_imports(self) -> set[str]:
        """The namespaces a DMN file imports (`<import namespace=...>` of DMN models)."""
        if self.kind != "dmn":
            return set()
        return {i.get("namespace") for i in self.root if isinstance(i.tag, str) and etree.QName(i).localname
                == "import" and i.get("namespace") and "DMN" in (i.get("importType") or "DMN")}

    # --- semantics and drawing (reports, coverage): read on first use -----------------------------------------

    @cached_property
    def semantics(self) -> Semantics:
        """Every semantic element by id. Read from `tree`: ask before `definitions.load` normalizes it."""
        return read_semantics(self.root) if self.kind == "bpmn" else Semantics()

    @property
    def elements(self) -> dict[str, ElementInfo]:
        return self.semantics.elements

    @property
    def processes(self) -> list[ElementInfo]:
        return self.semantics.processes

    @cached_property
    def drawing(self) -> Drawing:
        """The file's own diagrams, or a generated layout where it draws nothing."""
        return self.draw(layout_missing=True)

    def draw(self, *, layout_missing: bool) -> Drawing:
        if self.kind != "bpmn":
            return Drawing(notes=[DMN_NOTE])
        return read_drawing(self.root, self.semantics, layout_missing=layout_missing)

    @property
    def diagrams(self) -> list[Diagram]:
        return self.drawing.diagrams

    @property
    def has_di(self) -> bool:
        return self.drawing.has_di

    @property
    def notes(self) -> list[str]:
        return self.drawing.notes

    @property
    def di_element_ids(self) -> set[str]:
        return self.drawing.di_element_ids


def display_name(path: Path) -> str:
    """Paths relative to the working directory when they are below it, as a user typed them."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def read_source(name: str, content: bytes, *, path: Path | None = None, lenient: bool = False) -> Document:
    """Parse one file's bytes and classify it as BPMN or DMN; anything else is a DefinitionError.

    `lenient` (reports): also accept the draft BPMN namespaces some older tools write, and any DMN namespace."""
    tree = parse_bytes(content, name)
    root = tree.getroot()
    qname = etree.QName(root)
    ns, local = qname.namespace, qname.localname
    if local == "definitions" and (ns == BPMN_NS or (lenient and is_bpmn_namespace(ns))):
        kind = "bpmn"
    elif local == "definitions" and (ns in DMN_NAMESPACES or (lenient and ns is not None and "/DMN/" in ns.upper())):
        kind = "dmn"
    elif lenient:
        raise DefinitionError(f"not a BPMN 2.0 document: the root element is <{local}> in namespace "
                              f"{ns or '(none)'}; expected <definitions> in {BPMN_NS}", file=name,
                              line=root.sourceline or 1)
    else:
        raise XmlError(f"not a BPMN or DMN document (root element is {{{ns}}}{local}); "
                       f"expected bpmn:definitions in namespace {BPMN_NS}", file=name, line=root.sourceline or 1)
    lines = {}
    uses: set[str] = set()
    for element in root.iter():  # one pass: the line of each id, and the namespaces that tell the dialect
        if isinstance(element.tag, str):
            element_id = element.get("id")
            if element_id and element_id not in lines:
                lines[element_id] = element.sourceline or 1
            note_namespaces(element, uses)
    dialect = dialect_of(uses) if kind == "bpmn" else "bpmn"
    return Document(path if path is not None else Path(name), name, tree, kind, dialect, lines, content)


def read_document(path: Path, *, name: str | None = None, lenient: bool = False) -> Document:
    """Read and parse one file (named as the user would type it, unless `name` is given)."""
    path = Path(path)
    shown = name or display_name(path)
    return read_source(shown, read_file_bytes(path, shown), path=path, lenient=lenient)


def expand_paths(paths: list[str | Path]) -> list[Path]:
    """Files as given; folders become their .bpmn and .dmn files (sorted), recursively."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in (".bpmn", ".dmn"))
            if not found:
                raise DefinitionError(f"folder {raw} holds no .bpmn or .dmn files")
            out.extend(found)
        elif path.exists():
            out.append(path)
        else:
            raise DefinitionError(f"{raw}: no such file or folder")
    unique: list[Path] = []
    seen: set[Path] = set()
    for path in out:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(path)
    return unique


def read_documents(paths: list[str | Path]) -> list[Document]:
    return [read_document(p) for p in expand_paths(paths)]


def sibling_candidates(documents: list[Document]) -> list[Path]:
    """The .bpmn and .dmn files beside the loaded ones that are not loaded yet."""
    loaded = {d.path.resolve() for d in documents}
    folders = sorted({d.path.resolve().parent for d in documents})
    out: list[Path] = []
    for folder in folders:
        for path in sorted(folder.iterdir()):
            if path.is_file() and path.suffix.lower() in (".bpmn", ".dmn") and path.resolve() not in loaded:
                out.append(path)
    return out
