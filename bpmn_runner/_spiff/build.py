"""Turn loaded documents into SpiffWorkflow specs, translating its errors into one-line definition errors."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Protocol

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.exceptions import SpiffWorkflowException

from ..errors import DefinitionError, UnknownProcessError, UnsupportedElementError
from ..models import TaskReader
from . import patches
from .parser import family_for, new_parser

patches.apply()

_MISSING_TARGET = re.compile(r"perhaps a form has the same ID\? \((.*)\)")


class Document(Protocol):
    """What the spec builder needs of a loaded file (the loader's `Document` has it; `_spiff` never imports it)."""

    name: str
    kind: str
    dialect: str
    tree: Any
    lines: dict[str, int]

    @property
    def root(self) -> Any: ...

    def line_of(self, element_id: str | None) -> int | None: ...

    def process_ids(self) -> list[str]: ...


@dataclass
class BuiltSpecs:
    """The parsed specs of a set of documents."""

    family: str
    parser: Any
    documents: list[Document]
    executable: list[str] = field(default_factory=list)
    _cache: dict[str, tuple[Any, dict[str, Any]]] = field(default_factory=dict)

    def spec(self, process_id: str) -> tuple[Any, dict[str, Any]]:
        """The process spec and the specs of everything it calls, parsed once."""
        if process_id not in self._cache:
            with translate_errors(self.documents):
                spec = self.parser.get_spec(process_id)
                subprocess_specs = self.parser.get_subprocess_specs(process_id)
            self._cache[process_id] = (spec, subprocess_specs)
        return self._cache[process_id]

    def called_processes(self) -> set[str]:
        """Ids of the processes some call activity calls."""
        return {p for p in self.parser.get_process_dependencies() if p}

    def has_process(self, process_id: str) -> bool:
        """Whether any loaded file defines the process, executable or not."""
        return process_id in self.parser.process_parsers

    def document_of_process(self, process_id: str) -> Document | None:
        for doc in self.documents:
            if process_id in doc.process_ids():
                return doc
        return None


def build_specs(documents: list[Document], *, reader: TaskReader) -> BuiltSpecs:
    """Parse every document (DMN first) with a parser that reads tasks through `reader`."""
    family = family_for({d.dialect for d in documents})
    parser = new_parser(family, reader)
    with translate_errors(documents):
        for doc in documents:
            if doc.kind == "dmn":
                parser.add_dmn_xml(doc.root, filename=doc.name)
        for doc in documents:
            if doc.kind == "bpmn":
                parser.add_bpmn_xml(doc.tree, filename=doc.name)
    executable = [pid for pid in parser.get_process_ids()]
    return BuiltSpecs(family, parser, documents, executable)


def missing_dependencies(built: BuiltSpecs) -> tuple[set[str], set[str]]:
    """Called process ids and decision ids that no loaded document defines."""
    processes = set(built.parser.process_parsers)
    called = {p for p in built.parser.get_process_dependencies() if p}
    decisions = set(built.parser.dmn_parsers)
    needed = {d for d in built.parser.get_dmn_dependencies() if d}
    return called - processes, needed - decisions


class translate_errors:
    """Context manager: SpiffWorkflow parse errors become DefinitionError with file and line."""

    def __init__(self, documents: list[Document]) -> None:
        self.documents = documents

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> bool:
        if exc is None or isinstance(exc, DefinitionError):
            return False
        if isinstance(exc, RecursionError):
            raise DefinitionError("the diagram is nested too deeply to parse") from exc
        if isinstance(exc, ValidationException):
            raise definition_error(exc, self.documents) from exc
        if isinstance(exc, SpiffWorkflowException):
            raise DefinitionError(clean_message(str(exc))) from exc
        if isinstance(exc, (KeyError, AttributeError, TypeError, ValueError, IndexError, etree.LxmlError)):
            raise structure_error(exc, self.documents) from exc
        return False


def structure_error(exc: BaseException, documents: list[Document]) -> DefinitionError:
    """SpiffWorkflow's parser tripped over the file with a plain Python error: name the element it was reading
    (the innermost lxml element on the traceback), never the Python error itself."""
    element = None
    tb: TracebackType | None = exc.__traceback__
    while tb is not None:
        for value in tb.tb_frame.f_locals.values():
            if isinstance(value, etree._Element) and isinstance(value.tag, str):
                element = value
        tb = tb.tb_next
    doc = documents[0] if len(documents) == 1 else None
    if element is not None:
        root = element.getroottree().getroot()
        doc = next((d for d in documents if d.root is root), doc)
        element_id = element.get("id")
        what = f"bpmn:{etree.QName(element).localname}" + (f" {element_id!r}" if element_id else "")
        return DefinitionError(f"{what} has a structure bpmn-runner cannot read; check that the file opens in a "
                               f"modeler and that its references point at existing elements",
                               file=doc.name if doc else None, line=element.sourceline or 1, element_id=element_id)
    return DefinitionError("the diagram uses a structure bpmn-runner cannot read; check that it opens in a modeler",
                           file=doc.name if doc else None, line=1 if doc else None)


_EXCEPTION_REPR = re.compile(r"\b\w+(Error|Exception)\(")
_ELEMENT_REPR = re.compile(r"<Element \{[^}]*\}(\w+) at 0x[0-9a-f]+>")  # lxml reprs in SpiffWorkflow's messages


def clean_message(text: str) -> str:
    """One line without trailing dots, lxml element reprs written as `bpmn:tag`."""
    text = _ELEMENT_REPR.sub(r"bpmn:\1", text).strip()
    while text.endswith(".") or text.endswith(" "):
        text = text[:-1]
    return " ".join(text.split())


def definition_error(exc: ValidationException, documents: list[Document]) -> DefinitionError:
    message = clean_message(str(exc).replace(". . ", ". "))
    element_id = getattr(exc, "id", "") or ""
    if "RecursionError" in message:
        message = "the diagram is nested too deeply to parse"
    match = _MISSING_TARGET.search(message)
    if match:
        message = f"sequence flow target {match.group(1)!r} does not exist (a dangling targetRef)"
    cls: type[DefinitionError] = DefinitionError
    if "There is no support implemented for this task type" in message:
        tag = getattr(exc, "tag", "") or "this element"
        message = f"{tag} is not supported by bpmn-runner; replace it with a supported element"
        cls = UnsupportedElementError
    elif "Unsupported Catch Event" in message:
        message = "boundary event without a supported event definition"
        cls = UnsupportedElementError
    elif "was not found" in message and "process" in message.lower():
        cls = UnknownProcessError
    elif "No DMN Diagram available" in message:
        cls = UnknownProcessError
    elif _EXCEPTION_REPR.search(message):  # SpiffWorkflow wrapped a Python error: say what to check instead
        message = ("this element has a structure bpmn-runner cannot read (often a reference to an element that "
                   "does not exist); check it in the modeler")
    file_name = getattr(exc, "file_name", "") or ""
    doc = next((d for d in documents if d.name == file_name), None)
    if doc is None and element_id:
        doc = next((d for d in documents if element_id in d.lines), None)
    line = None
    if doc is not None:
        line = doc.line_of(element_id) or _int(getattr(exc, "line_number", None)) or 1
        file_name = doc.name
    if element_id and repr(element_id) not in message:
        message = f"{getattr(exc, 'tag', '') or 'element'} {element_id!r}: {message}"
    return cls(message, file=file_name or None, line=line, element_id=element_id or None)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
