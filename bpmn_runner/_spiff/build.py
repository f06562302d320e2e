"""Turn loaded documents into SpiffWorkflow specs, translating its errors into one-line definition errors."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.exceptions import SpiffWorkflowException

from ..errors import DefinitionError, UnknownProcessError, UnsupportedElementError
from ..loader.documents import Document
from . import patches
from .parser import family_for, new_parser

patches.apply()

_MISSING_TARGET = re.compile(r"perhaps a form has the same ID\? \((.*)\)")


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

    def document_of_process(self, process_id: str) -> Document | None:
        for doc in self.documents:
            if process_id in doc.process_ids():
                return doc
        return None


def build_specs(documents: list[Document]) -> BuiltSpecs:
    family = family_for({d.dialect for d in documents})
    parser = new_parser(family)
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
            doc = self.documents[0] if len(self.documents) == 1 else None
            raise DefinitionError(
                f"the diagram uses a structure bpmn-runner cannot read ({type(exc).__name__}: {exc}); "
                f"check it opens in a modeler", file=doc.name if doc else None, line=1 if doc else None) from exc
        return False


def clean_message(text: str) -> str:
    text = text.strip()
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
    file_name = getattr(exc, "file_name", "") or ""
    doc = next((d for d in documents if d.name == file_name), None)
    if doc is None and element_id:
        doc = next((d for d in documents if element_id in d.lines), None)
    line = None
    if doc is not None:
        line = doc.line_of(element_id) or _int(getattr(exc, "line_number", None)) or 1
        file_name = doc.name
    if element_id and element_id not in message:
        message = f"{getattr(exc, 'tag', '') or 'element'} {element_id!r}: {message}"
    return cls(message, file=file_name or None, line=line, element_id=element_id or None)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
