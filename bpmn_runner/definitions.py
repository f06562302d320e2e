"""Loaded definitions: documents plus their parsed specs, with called processes found beside them."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Iterator

from lxml import etree

from ._spiff.build import BuiltSpecs, build_specs, missing_dependencies
from .errors import BpmnRunnerError, DefinitionError, InvalidOperationError, UnknownProcessError
from .loader.commit_points import commit_points as read_commit_points
from .loader.decision_refs import has_dynamic_decision_ref
from .loader.dialects import bindable_elements
from .loader.task_reader import TASK_READER
from .loader.normalize import normalize
from .loader.listeners import read_listeners
from .loader.preflight import check_expressions, check_references
from .loader.integrity import check_ids, missing_error
from .loader.documents import Document, read_document, read_documents, read_source, sibling_candidates
from .loader.process_models import find_models_root, tree_candidates
from .loader.simulated import called_elements, make_walkable, stub_missing_targets, walk_called_processes
from .models import Binding, Simulated
from .namespaces import BPMN_NS, NSMAP


@dataclass
class BoundTask:
    """A service-like task and its binding, with where it is drawn."""

    document: Document
    element: etree._Element
    binding: Binding | None

    @property
    def element_id(self) -> str:
        return self.element.get("id", "")

    @property
    def line(self) -> int:
        return self.element.sourceline or 1

    @property
    def kind(self) -> str:
        return etree.QName(self.element).localname


@dataclass
class Definitions:
    """Everything loaded from a set of files, ready to start instances."""

    documents: list[Document]
    built: BuiltSpecs
    notes: list[str] = field(default_factory=list)
    simulated: list[Simulated] = field(default_factory=list)  # rewrites made for a simulation (load(simulate=True))
    for_simulation: bool = False

    @property
    def family(self) -> str:
        return self.built.family

    def sources(self) -> list[tuple[str, bytes]]:
        """(name, bytes) of every loaded file, exactly as read and validated: what a store deploys."""
        return [(doc.name, doc.content) for doc in self.documents]

    def executable_processes(self) -> list[str]:
        return list(self.built.executable)

    def called_processes(self) -> set[str]:
        return self.built.called_processes()

    def entry_processes(self) -> list[str]:
        """Executable processes that no call activity calls: the ones a user would start."""
        called = self.called_processes()
        return [p for p in self.executable_processes() if p not in called]

    def choose_process(self, process_id: str | None) -> str:
        executable = self.executable_processes()
        if process_id is not None:
            if process_id in executable:
                return process_id
            known = ", ".join(executable) or "none"
            if self.built.has_process(process_id):
                raise UnknownProcessError(f"process {process_id!r} is not executable (isExecutable=\"false\"); "
                                          f"executable processes: {known}")
            raise UnknownProcessError(f"no process {process_id!r} in the loaded files; executable processes: {known}")
        entries = self.entry_processes() or executable
        if len(entries) == 1:
            return entries[0]
        if not entries:
            raise DefinitionError("the loaded files hold no executable process (isExecutable=\"true\")",
                                  file=self.documents[0].name if self.documents else None, line=1)
        raise DefinitionError("several executable processes: " + ", ".join(entries) +
                              "; choose one with --process ID")

    def prepare(self, process_id: str) -> None:
        """Parse the process and everything it calls now (once), so that a definition error surfaces at load.
        The parsed spec stays inside `built`: no SpiffWorkflow object is handed out."""
        self.built.spec(process_id)

    def process_document(self, process_id: str) -> Document | None:
        return self.built.document_of_process(process_id)

    @cached_property
    def sequence_flows(self) -> dict[tuple[str, str], str]:
        """(source id, target id) -> sequence flow id, over every loaded document (read once: every start and
        restore of an instance uses it)."""
        flows: dict[tuple[str, str], str] = {}
        for doc in self.documents:
            if doc.kind != "bpmn":
                continue
            for flow in doc.root.iter(f"{{{BPMN_NS}}}sequenceFlow"):
                key = (flow.get("sourceRef", ""), flow.get("targetRef", ""))
                flows.setdefault(key, flow.get("id", ""))
        return flows

    @cached_property
    def flow_names(self) -> dict[str, str]:
        """Sequence flow id -> its name, where it has one."""
        return {flow.get("id", ""): flow.get("name", "") for doc in self.documents if doc.kind == "bpmn"
                for flow in doc.root.iter(f"{{{BPMN_NS}}}sequenceFlow") if flow.get("name")}

    @cached_property
    def commit_points(self) -> dict[str, str]:
        """Element id -> "before", "after", "both" or "external": where the diagrams ask a durable instance to
        commit (asyncBefore/asyncAfter, external tasks, runner:async); see loader/commit_points.py."""
        out: dict[str, str] = {}
        for doc in self.documents:
            if doc.kind == "bpmn":
                out.update(read_commit_points(doc.root.iter(f"{{{BPMN_NS}}}process"), doc.name))
        return out

    def error_boundaries(self, element_id: str) -> list[tuple[str, str]]:
        """(boundary event id, error code) of each error boundary event attached to an element (code "" when the
        boundary catches every error)."""
        out = []
        for doc in self.documents:
            if doc.kind != "bpmn" or element_id not in doc.lines:
                continue
            errors = {e.get("id"): e.get("errorCode") or e.get("name") or e.get("id", "")
                      for e in doc.root.iter(f"{{{BPMN_NS}}}error")}
            for boundary in doc.root.iter(f"{{{BPMN_NS}}}boundaryEvent"):
                if boundary.get("attachedToRef") != element_id:
                    continue
                for definition in boundary.iter(f"{{{BPMN_NS}}}errorEventDefinition"):
                    out.append((boundary.get("id", ""), errors.get(definition.get("errorRef"), "")))
        return out

    def bound_tasks(self, process_ids: list[str] | None = None) -> list[BoundTask]:
        """Service, send and business rule tasks that call handlers (or should), in document order."""
        return [BoundTask(doc, element, binding) for doc, process in self._bpmn_processes(process_ids)
                for element, binding in bindable_elements(process)]

    def _bpmn_processes(self, process_ids: list[str] | None) -> Iterator[tuple[Document, etree._Element]]:
        """(document, process element) of every BPMN process, or of those named."""
        wanted = set(process_ids) if process_ids is not None else None
        for doc in self.documents:
            if doc.kind != "bpmn":
                continue
            for process in doc.root.iter(f"{{{BPMN_NS}}}process"):
                if wanted is None or process.get("id") in wanted:
                    yield doc, process

    def listener_handlers(self, process_ids: list[str] | None = None) -> list[tuple[Document, int, str, str]]:
        """(document, line, element id, handler name) of every class, delegate, expression or job-type listener."""
        key = tuple(sorted(process_ids)) if process_ids is not None else None
        cache = self.__dict__.setdefault("_listener_handlers", {})
        if key not in cache:
            cache[key] = self._find_listener_handlers(process_ids)
        return cache[key]

    def _find_listener_handlers(self, process_ids: list[str] | None) -> list[tuple[Document, int, str, str]]:
        out: list[tuple[Document, int, str, str]] = []
        for doc, process in self._bpmn_processes(process_ids):
            for element in process.iter():
                if not isinstance(element.tag, str) or not element.get("id"):
                    continue
                for listener in read_listeners(element):
                    name = listener.get("name") or ""
                    if listener["kind"] != "script" and name and \
                            name not in ("execution.setVariable", "task.setVariable"):
                        out.append((doc, listener["line"] or element.sourceline or 1, element.get("id"), name))
        return out

    def find_element(self, element_id: str) -> tuple[Document, etree._Element] | None:
        """The document and element with this id, in load order."""
        for doc in self.documents:
            if element_id in doc.lines:
                element = doc.element(element_id)
                if element is not None:
                    return doc, element
        return None

    def reachable_processes(self, process_id: str) -> list[str]:
        """The process and every process it calls, transitively."""
        seen = [process_id]
        index = 0
        while index < len(seen):
            doc = self.process_document(seen[index])
            if doc is not None:
                process = doc.root.xpath("//bpmn:process[@id=$i]", namespaces=NSMAP, i=seen[index])
                for called in (process[0].xpath(".//bpmn:callActivity/@calledElement", namespaces=NSMAP)
                               if process else []):
                    if called not in seen:
                        seen.append(called)
            index += 1
        return seen


def load(paths: list[str | Path], *, search_siblings: bool = False, simulate: bool = False,
         models: str | Path | None = None) -> Definitions:
    """Load files and folders; with `search_siblings`, missing called processes and decisions are looked for
    in the .bpmn/.dmn files beside them (never outside those folders). With `simulate`, what cannot run as drawn
    is rewritten to walk (see loader/simulated.py): such definitions are for `Engine(simulate=True)` only."""
    return load_documents(read_documents(paths), search_siblings=search_siblings, simulate=simulate, models=models)


def load_sources(sources: list[tuple[str, bytes]]) -> Definitions:
    """Load definitions from stored file contents (name, bytes), as `load` loads files: a worker on another host
    runs what `start` stored without the files. Names are kept as the documents' names; nothing is written to disk."""
    return load_documents([read_source(name, content) for name, content in sources])


def load_documents(documents: list[Document], *, search_siblings: bool = False, simulate: bool = False,
                   models: str | Path | None = None) -> Definitions:
    """Check, normalize and build documents freshly read (`read_document`, `read_source`): the one path from a
    document to runnable definitions. Their trees are normalized in place for the engine; their bytes stay."""
    documents = list(documents)
    assumed: list[tuple[str, str]] = []
    called = {k: v for d in documents if d.kind == "bpmn" for k, v in called_elements(d.root).items()}
    for doc in documents:
        assumed += _normalize(doc, simulate, called)
    notes: list[str] = []
    built = build_specs(documents, reader=TASK_READER)
    missing_processes, missing_decisions = missing_dependencies(built)
    if (search_siblings or models) and (missing_processes or missing_decisions):
        for candidate in _candidates(documents, search_siblings, models):
            if not (missing_processes or missing_decisions):
                break
            try:
                doc = read_document(candidate)
            except BpmnRunnerError:
                continue
            provides = (set(doc.process_ids()) & missing_processes) | (set(doc.decision_ids()) & missing_decisions)
            if provides:
                assumed += _normalize(doc, simulate, called)
                documents.append(doc)
                for item in sorted(provides):
                    notes.append(f"took {item!r} from {doc.name}")
                built = build_specs(documents, reader=TASK_READER)
                missing_processes, missing_decisions = missing_dependencies(built)
    if search_siblings and any(d.kind == "bpmn" and has_dynamic_decision_ref(d.root) for d in documents):
        built = _add_sibling_decisions(documents, built, notes)
    if search_siblings and _missing_imports(documents):
        built = _add_imported_models(documents, built, notes)
        missing_processes, missing_decisions = missing_dependencies(built)
    if (missing_processes or missing_decisions) and simulate:
        for doc in documents:
            if doc.kind == "bpmn":
                assumed += stub_missing_targets(doc.root, missing_processes, missing_decisions)
        built = build_specs(documents, reader=TASK_READER)
        missing_processes, missing_decisions = missing_dependencies(built)
    if missing_processes or missing_decisions:
        raise missing_error([(d.name, d.root) for d in documents if d.kind == "bpmn"], missing_processes,
                            missing_decisions)
    definitions = Definitions(documents, built, notes, [Simulated(e, a) for e, a in assumed], simulate)
    for process_id in definitions.executable_processes():
        definitions.prepare(process_id)
    return definitions


def _add_sibling_decisions(documents: list[Document], built: BuiltSpecs, notes: list[str]) -> BuiltSpecs:
    """A decision chosen at run time may be any decision: the DMN files beside the diagrams are loaded too (in
    place). If they do not build together, the diagrams run without them and an unknown decision fails its task."""
    extra = [doc for doc in _sibling_dmn_documents(documents) if doc.kind == "dmn" and doc.decision_ids()]
    if not extra:
        return built
    try:
        rebuilt = build_specs(documents + extra, reader=TASK_READER)
    except BpmnRunnerError:
        return built
    documents.extend(extra)
    notes.extend(f"took the decisions of {doc.name} (a decision is chosen at run time)" for doc in extra)
    return rebuilt


def _sibling_dmn_documents(documents: list[Document]) -> Iterator[Document]:
    """The readable .dmn files beside the loaded documents (one that does not read is passed over)."""
    for candidate in sibling_candidates(documents):
        if candidate.suffix.lower() != ".dmn":
            continue
        try:
            yield read_document(candidate)
        except BpmnRunnerError:
            continue


def _missing_imports(documents: list[Document]) -> set[str]:
    loaded = {d.dmn_namespace() for d in documents}
    return {ns for d in documents for ns in d.dmn_imports()} - loaded


def _add_imported_models(documents: list[Document], built: BuiltSpecs, notes: list[str]) -> BuiltSpecs:
    """DMN models imported by a loaded DMN file (`<import namespace=...>`) are looked for, by namespace, among the
    .dmn files beside the loaded ones, as called processes are."""
    added = progress = False
    while _missing_imports(documents) and (progress or not added):
        progress = False
        for doc in _sibling_dmn_documents(documents):
            if doc.dmn_namespace() in _missing_imports(documents):
                documents.append(doc)
                notes.append(f"took the DMN model {doc.dmn_namespace()!r} (imported) from {doc.name}")
                added = progress = True
        if not progress:
            break
    return build_specs(documents, reader=TASK_READER) if added else built


def _candidates(documents: list[Document], siblings: bool, models: str | Path | None) -> Iterator[Path]:
    """Where missing called processes and decisions are looked for: beside the diagrams, then in the SpiffArena
    process-model tree (`models`, else the tree the diagrams are in)."""
    seen: set[Path] = set()
    if siblings:
        for path in sibling_candidates(documents):
            seen.add(path.resolve())
            yield path
    root = Path(models) if models else find_models_root(documents) if siblings else None
    if root is None:
        return
    if not root.is_dir():
        raise InvalidOperationError(f"--models {root}: no such folder")
    for path in tree_candidates(root, documents):
        if path.resolve() not in seen:
            yield path


def _normalize(doc: Document, simulate: bool = False, called: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """Check and rewrite a BPMN document; in a simulation, first make what cannot run walkable. Outside a
    simulation, references and expressions are checked now, before any handler runs."""
    if doc.kind != "bpmn":
        return []
    assumed = walk_called_processes(doc.root, called or {}) if simulate else []
    check_ids(doc.root, doc.name, doc.lines)
    assumed += make_walkable(doc.root) if simulate else []
    normalize(doc.root, doc.name, doc.dialect)
    if not simulate:
        check_references(doc.root, doc.name)
        check_expressions(doc.root, doc.name)
    return assumed
