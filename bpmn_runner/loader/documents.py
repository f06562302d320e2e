"""Find and read diagram files (BPMN and DMN) from files and folders, with an id-to-line index."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from ..errors import DefinitionError, XmlError
from .dialects import BPMN_NS, document_dialect
from .xml import parse_file

DMN_NAMESPACES = (
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
    "http://www.omg.org/spec/DMN/20180521/MODEL/",
    "https://www.omg.org/spec/DMN/20191111/MODEL/",
    "https://www.omg.org/spec/DMN/20230324/MODEL/",
)
DIAGRAM_SUFFIXES = (".bpmn", ".bpmn2", ".dmn", ".xml")


@dataclass
class Document:
    """One loaded file: its parsed tree, its kind and where each id sits."""

    path: Path
    name: str
    tree: etree._ElementTree
    kind: str                     # bpmn | dmn
    dialect: str                  # camunda7 | camunda8 | spiff | bpmn (dmn files: bpmn)
    lines: dict[str, int] = field(default_factory=dict)

    @property
    def root(self) -> etree._Element:
        return self.tree.getroot()

    def line_of(self, element_id: str | None) -> int | None:
        return self.lines.get(element_id or "")

    def element(self, element_id: str) -> etree._Element | None:
        found = self.root.xpath("//*[@id=$i]", i=element_id)
        return found[0] if found else None

    def process_ids(self) -> list[str]:
        return [p.get("id") for p in self.root.iter(f"{{{BPMN_NS}}}process") if p.get("id")]

    def decision_ids(self) -> list[str]:
        return [d.get("id") for d in self.root.iter() if isinstance(d.tag, str)
                and etree.QName(d).localname == "decision" and d.get("id")]


def display_name(path: Path) -> str:
    """Paths relative to the working directory when they are below it, as a user typed them."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def read_document(path: Path) -> Document:
    """Parse one file and classify it as BPMN or DMN; anything else is a DefinitionError."""
    name = display_name(path)
    tree = parse_file(path, name)
    root = tree.getroot()
    ns = etree.QName(root).namespace
    local = etree.QName(root).localname
    if ns == BPMN_NS and local == "definitions":
        kind = "bpmn"
    elif ns in DMN_NAMESPACES and local == "definitions":
        kind = "dmn"
    else:
        raise XmlError(f"not a BPMN or DMN document (root element is {{{ns}}}{local}); "
                       f"expected bpmn:definitions in namespace {BPMN_NS}", file=name, line=root.sourceline or 1)
    lines = {}
    for element in root.iter():
        if isinstance(element.tag, str):
            element_id = element.get("id")
            if element_id and element_id not in lines:
                lines[element_id] = element.sourceline or 1
    dialect = document_dialect(root) if kind == "bpmn" else "bpmn"
    return Document(path, name, tree, kind, dialect, lines)


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
