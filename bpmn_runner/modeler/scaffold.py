"""Handler stubs from diagrams: one documented `@handler` stub per task whose handler is not registered."""

from __future__ import annotations

import ast
import keyword
import re
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from ..errors import ExpressionError
from .script_reads import script_reads
from .stub_module import one_line, render_module
from ..expressions import dialect_of, referenced_names
from ..loader.dialects import BINDABLE_TAGS, IoMappings, read_binding, read_io_mappings, read_spiff_parameters
from ..loader.documents import Document, read_documents
from ..loader.listeners import read_listeners
from ..models import Binding
from ..namespaces import BPMN_NS, CAMUNDA_NS, NSMAP
from ..registry import HandlerRegistry

_SPIFF_TYPES = {"str": "string", "string": "string", "int": "integer", "integer": "integer", "float": "number",
                "number": "number", "bool": "boolean", "boolean": "boolean", "dict": "object", "list": "array"}



@dataclass
class TaskNeed:
    """What one diagram task asks of its handler."""

    element_id: str
    name: str
    file: str
    line: int
    binding: Binding
    inputs: dict[str, str] = field(default_factory=dict)        # param name -> mapping source text
    input_types: dict[str, str] = field(default_factory=dict)   # param name -> type name
    outputs: dict[str, str] = field(default_factory=dict)       # name -> where the diagram reads it


@dataclass
class Stub:
    """One handler to write: a binding name and the tasks that call it."""

    name: str
    function: str
    tasks: list[TaskNeed]

    @property
    def label(self) -> str:
        return self.tasks[0].name or self.tasks[0].element_id

    def input_types(self) -> dict[str, str]:
        types: dict[str, str] = {}
        for task in self.tasks:
            for key, type_name in task.input_types.items():
                types[key] = type_name if types.get(key, type_name) == type_name else "any"
        return types

    def outputs(self) -> dict[str, str]:
        return {key: "any" for task in self.tasks for key in task.outputs}

    def message(self) -> str:
        tasks = ", ".join(f"'{t.name}' ({t.element_id})" if t.name else t.element_id for t in self.tasks)
        noun = "task" if len(self.tasks) == 1 else "tasks"
        return f"{self.name}: implement the handler for {noun} {tasks}"


@dataclass
class Scaffold:
    """The generated module and what went into it."""

    source: str
    stubs: list[Stub]
    unbound: list[tuple[str, int, str, str]]  # (file, line, element id, name) of tasks that name no handler


def scaffold(paths: list[Path], registry: HandlerRegistry | None = None) -> Scaffold:
    """Read diagrams and write a handler module with one stub per binding name that `registry` lacks."""
    documents = read_documents(list(paths))
    registry = registry or HandlerRegistry()
    needs: dict[str, list[TaskNeed]] = {}
    unbound: list[tuple[str, int, str, str]] = []
    for doc in documents:
        if doc.kind != "bpmn":
            continue
        for process in doc.root.iter(f"{{{BPMN_NS}}}process"):
            graph = _ProcessGraph(process)
            for element in process.iter(*BINDABLE_TAGS):
                binding = read_binding(element)
                if binding is None or not binding.name:
                    if etree.QName(element).localname == "serviceTask":
                        unbound.append((doc.name, element.sourceline or 1, element.get("id", ""),
                                        one_line(element.get("name", ""))))
                    continue
                if binding.name in registry:
                    continue
                needs.setdefault(binding.name, []).append(_task_need(doc, element, binding, graph, registry))
            for element in process.iter():
                if not isinstance(element.tag, str) or not element.get("id"):
                    continue
                for listener in read_listeners(element):
                    name = listener.get("name") or ""
                    if listener["kind"] == "script" or not name or name in registry or \
                            name in ("execution.setVariable", "task.setVariable"):
                        continue
                    needs.setdefault(name, []).append(TaskNeed(
                        element.get("id", ""), f"{listener['scope']} listener on {listener['event'] or 'take'}",
                        doc.name, listener["line"] or element.sourceline or 1,
                        Binding(name, listener["dialect"], "listener")))
    stubs = _stubs(needs)
    source = render_module(stubs, unbound, [d.name for d in documents])
    compile(source, "<scaffold>", "exec")  # a diagram's text can never break the module it generates
    return Scaffold(source, stubs, unbound)


def _task_need(doc: Document, element: etree._Element, binding: Binding, graph: "_ProcessGraph",
               registry: HandlerRegistry) -> TaskNeed:
    element_id = element.get("id", "")
    need = TaskNeed(element_id, one_line(element.get("name", "")), doc.name, element.sourceline or 1, binding)
    io = read_io_mappings(element)
    for mapping in io.inputs:
        if mapping.target:
            need.inputs[mapping.target] = _short(mapping.source)
            need.input_types[mapping.target] = _literal_type(mapping.source)
    for param in element.xpath("./bpmn:extensionElements/spiffworkflow:serviceTaskOperator/"
                               "spiffworkflow:parameters/spiffworkflow:parameter", namespaces=NSMAP):
        key = param.get("id") or param.get("name")
        if key:
            need.inputs[key] = _short(param.get("value") or "")
            need.input_types[key] = _SPIFF_TYPES.get((param.get("type") or "").strip().lower(), "any")
    need.outputs = _outputs(element, binding, io, graph, registry)
    return need


def _outputs(element: etree._Element, binding: Binding, io: IoMappings, graph: "_ProcessGraph",
             registry: HandlerRegistry) -> dict[str, str]:
    """Names the task's result must hold: its own output mappings' sources, then what is read downstream and
    not explained otherwise (read before or beside the task, or written by another step)."""
    element_id = element.get("id", "")
    found: dict[str, str] = {}
    for mapping in io.outputs:
        for name in _names(mapping.source, literal_is_text=True):
            found.setdefault(name, f"output mapping {mapping.target!r} = {_short(mapping.source)}")
    downstream = graph.reachable_from(element_id)
    reads_after = graph.reads(downstream)
    elsewhere = (set(graph.nodes) | set(graph.flows)) - downstream
    reads_elsewhere = {n for _, n, _ in graph.reads(elsewhere)} | {n for _, n, _ in graph.reads_of(element_id)}
    written = graph.written(exclude=element_id, registry=registry) | {m.target for m in io.outputs}
    result_variable = binding.result_variable
    for where, name, text in reads_after:
        if result_variable:  # the whole result lands under the result variable: only its keys are outputs
            if name == result_variable:
                for key in _keys_of(result_variable, text):
                    found.setdefault(key, f"read as {result_variable}[{key!r}] in {where}: {_short(text)}")
            continue
        if name in reads_elsewhere or name in written or name in found:
            continue
        found[name] = f"{where}: {_short(text)}"
    return found


class _ProcessGraph:
    """Flow nodes of one process, what follows what, and what each element reads and writes."""

    def __init__(self, process: etree._Element) -> None:
        self.nodes: dict[str, etree._Element] = {}
        self.edges: dict[str, set[str]] = {}
        self.flows: dict[str, etree._Element] = {}
        self._reads: dict[str, list[tuple[str, str, str]]] = {}
        self._writes: dict[str, set[str]] = {}
        for element in process.iter():
            if not isinstance(element.tag, str) or not element.get("id"):
                continue
            if etree.QName(element).namespace != BPMN_NS:
                continue
            local = etree.QName(element).localname
            if local == "sequenceFlow":
                self.flows[element.get("id")] = element
                self._edge(element.get("sourceRef", ""), element.get("id"))
                self._edge(element.get("id"), element.get("targetRef", ""))
            elif element.getparent() is not None and etree.QName(element.getparent()).localname in (
                    "process", "subProcess", "transaction", "adHocSubProcess") and local not in (
                    "laneSet", "documentation", "extensionElements", "association", "textAnnotation",
                    "dataObject", "dataObjectReference", "dataStoreReference", "ioSpecification", "property"):
                self.nodes[element.get("id")] = element
                parent = element.getparent()
                if parent is not process:  # a subprocess enters its children; its children can leave through it
                    self._edge(parent.get("id", ""), element.get("id"))
                    self._edge(element.get("id"), parent.get("id", ""))
                if local == "boundaryEvent" and element.get("attachedToRef"):
                    self._edge(element.get("attachedToRef"), element.get("id"))

    def _edge(self, source: str, target: str) -> None:
        if source and target:
            self.edges.setdefault(source, set()).add(target)

    def reachable_from(self, element_id: str) -> set[str]:
        """Nodes and flows after `element_id` (not the element itself, unless a loop comes back to it)."""
        seen: set[str] = set()
        todo = list(self.edges.get(element_id, ()))
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            todo.extend(self.edges.get(current, ()))
        return seen

    def reads_of(self, element_id: str) -> list[tuple[str, str, str]]:
        """(where, name, expression) for each variable the element or flow reads."""
        if element_id not in self._reads:
            self._reads[element_id] = self._read(element_id)
        return self._reads[element_id]

    def _read(self, element_id: str) -> list[tuple[str, str, str]]:
        flow = self.flows.get(element_id)
        out: list[tuple[str, str, str]] = []
        if flow is not None:
            for condition in flow.xpath("./bpmn:conditionExpression", namespaces=NSMAP):
                text = (condition.text or "").strip()
                out += [(f"condition of flow {element_id}", n, one_line(text)) for n in _names(text)]
            return out
        element = self.nodes.get(element_id)
        if element is None:
            return out
        for mapping in read_io_mappings(element).inputs:
            out += [(f"input mapping {mapping.target!r} of {element_id}", n, one_line(mapping.source))
                    for n in _names(mapping.source, literal_is_text=True)]
        for key, value in read_spiff_parameters(element).items():
            out += [(f"parameter {key!r} of {element_id}", n, one_line(value)) for n in _names(value)]
        for condition in element.xpath("./bpmn:conditionalEventDefinition/bpmn:condition", namespaces=NSMAP):
            text = (condition.text or "").strip()
            out += [(f"condition of {element_id}", n, one_line(text)) for n in _names(text)]
        for script in element.xpath("./bpmn:script | ./bpmn:extensionElements/spiffworkflow:preScript | "
                                    "./bpmn:extensionElements/spiffworkflow:postScript", namespaces=NSMAP):
            text = (script.text or "").strip()
            if text and not element.get("scriptFormat", "python").lower().startswith(("java", "groovy", "js")):
                out += [(f"script of {element_id}", n, one_line(text)) for n in sorted(script_reads(text))]
        return out

    def reads(self, ids: set[str]) -> list[tuple[str, str, str]]:
        out: list[tuple[str, str, str]] = []
        for element_id in sorted(ids, key=self._order):
            out += self.reads_of(element_id)
        return out

    def written(self, *, exclude: str, registry: HandlerRegistry) -> set[str]:
        """Names other elements set: output mapping targets, result variables, form fields, declared outputs."""
        names: set[str] = set()
        for element_id, element in self.nodes.items():
            if element_id != exclude:
                if element_id not in self._writes:
                    self._writes[element_id] = self._written_by(element, registry)
                names |= self._writes[element_id]
        return names

    @staticmethod
    def _written_by(element: etree._Element, registry: HandlerRegistry) -> set[str]:
        names = {m.target for m in read_io_mappings(element).outputs if m.target}
        names |= {f.get("id", "") for f in element.xpath(
            "./bpmn:extensionElements/camunda:formData/camunda:formField", namespaces=NSMAP)}
        if element.tag in BINDABLE_TAGS:
            binding = read_binding(element)
            if binding is not None and binding.result_variable:
                names.add(binding.result_variable)
            registered = registry.get(binding.name) if binding is not None and binding.name else None
            if registered is not None:
                names |= set(registered.info.outputs)
        result = element.get(f"{{{CAMUNDA_NS}}}resultVariable")
        if result:
            names.add(result)
        for script in element.xpath("./bpmn:script", namespaces=NSMAP):
            names |= _assigned_names(script.text or "")
        return names

    def _order(self, element_id: str) -> int:
        element = self.nodes.get(element_id, self.flows.get(element_id))
        return element.sourceline or 0 if element is not None else 0


def _names(text: str, *, literal_is_text: bool = False) -> set[str]:
    """Variables an expression reads; a mapping's plain text is a literal and reads nothing."""
    if not text or not text.strip() or (literal_is_text and _is_literal(text)):
        return set()
    try:
        return referenced_names(text)
    except ExpressionError:
        return set()


def _assigned_names(script: str) -> set[str]:
    """Names a Python script task assigns (a script in another language, or one that does not parse: none)."""
    try:
        tree = ast.parse(script)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _is_literal(source: str) -> bool:
    return dialect_of(source) == "python"


_FEEL_LITERALS = ((re.compile(r'^"[^"\\]*"$'), "string"), (re.compile(r"^-?\d+$"), "integer"),
                  (re.compile(r"^-?\d*\.\d+$"), "number"), (re.compile(r"^(true|false)$"), "boolean"))


def _literal_type(source: str) -> str:
    """The type of a mapping that is a constant (`MAIN`, `="EUR"`, `=3`); "any" for one that reads variables."""
    if _is_literal(source):
        return "string"
    text = source.strip()
    if dialect_of(text) == "feel":
        for pattern, type_name in _FEEL_LITERALS:
            if pattern.match(text[1:].strip()):
                return type_name
    return "any"


def _short(text: str, limit: int = 100) -> str:
    line = one_line(text)
    return line if len(line) <= limit else line[:limit - 1] + "…"


def _keys_of(variable: str, text: str) -> list[str]:
    """`policy['approved']`, `policy["approved"]` and `policy.approved` all read the key `approved`."""
    pattern = re.compile(rf"\b{re.escape(variable)}\s*(?:\[\s*['\"]([^'\"]+)['\"]\s*\]|\.([A-Za-z_]\w*))")
    keys = [m.group(1) or m.group(2) for m in pattern.finditer(text)]
    return list(dict.fromkeys(keys))


def _stubs(needs: dict[str, list[TaskNeed]]) -> list[Stub]:
    stubs: list[Stub] = []
    used: set[str] = set()
    for name in sorted(needs):
        function = _function_name(name)
        candidate, count = function, 1
        while candidate in used:
            count += 1
            candidate = f"{function}_{count}"
        used.add(candidate)
        stubs.append(Stub(name, candidate, needs[name]))
    return stubs


def _function_name(name: str) -> str:
    """A Python identifier for a binding name: `payment.charge` -> `payment_charge`, `PayDelegate` -> `pay_delegate`."""
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    ident = re.sub(r"\W+", "_", snake, flags=re.ASCII).strip("_").lower() or "task"
    if ident[0].isdigit():
        ident = "task_" + ident
    return ident + "_" if keyword.iskeyword(ident) or ident in ("handler", "Any", "ServiceCall", "ListenerCall") else ident
