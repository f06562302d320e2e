"""Read a DMN 1.1-1.5 XML tree into the plain model of `bpmn_runner.dmn.model`."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from lxml import etree

from ..dmn import model as m
from ..errors import DefinitionError
from .xml import parse_bytes, parse_file

DMN_VERSIONS = {
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd": "1.1",
    "http://www.omg.org/spec/DMN/20180521/MODEL/": "1.2",
    "https://www.omg.org/spec/DMN/20191111/MODEL/": "1.3",
    "https://www.omg.org/spec/DMN/20211108/MODEL/": "1.4",
    "https://www.omg.org/spec/DMN/20230324/MODEL/": "1.5",
}
CAMUNDA_NS = "http://camunda.org/schema/1.0/dmn"
_EXPRESSION_TAGS = frozenset({"literalExpression", "decisionTable", "context", "list", "relation", "invocation",
                              "functionDefinition", "conditional", "for", "some", "every", "filter"})


def _local(element: Any) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _children(element: Any, name: str) -> list[Any]:
    return [c for c in element if isinstance(c.tag, str) and _local(c) == name]


def _child(element: Any, name: str) -> Any:
    found = _children(element, name)
    return found[0] if found else None


def _text(element: Any, name: str = "text") -> str:
    child = _child(element, name) if element is not None else None
    return (child.text or "") if child is not None else ""


def _type_ref(element: Any) -> str | None:
    """typeRef as an attribute (1.2+) or a child element (1.1); a `feel:` prefix is dropped."""
    value = element.get("typeRef")
    if value is None:
        child = _child(element, "typeRef")
        value = child.text if child is not None else None
    if value is None:
        return None
    value = value.strip()
    if ":" in value and not value.startswith("{"):
        prefix, rest = value.split(":", 1)
        if prefix in ("feel", "FEEL") or prefix in (element.nsmap or {}):
            value = rest
    return value or None


def _href(element: Any) -> m.Reference:
    href = element.get("href") or ""
    namespace, _, ident = href.partition("#")
    return m.Reference(namespace, ident)


class DmnReader:
    """Turns one `definitions` element into `Definitions`; ids are optional everywhere, as in the schema."""

    def __init__(self, file_name: str) -> None:
        self.file_name = file_name

    def read(self, root: Any) -> m.Definitions:
        ns = etree.QName(root).namespace or ""
        if _local(root) != "definitions" or ns not in DMN_VERSIONS:
            raise DefinitionError(f"not a DMN document (root element is {{{ns}}}{_local(root)})",
                                  file=self.file_name, line=root.sourceline or 1)
        defs = m.Definitions(id=root.get("id") or "", name=root.get("name") or "", namespace=root.get("namespace") or "",
                             file=self.file_name, version=DMN_VERSIONS[ns],
                             expression_language=root.get("expressionLanguage"))
        for child in root:
            tag = _local(child)
            if tag == "itemDefinition":
                item = self.item_definition(child)
                defs.item_definitions[item.name] = item
            elif tag == "import":
                defs.imports.append(m.Import(child.get("namespace") or "", child.get("name") or "",
                                             child.get("locationURI") or "", child.get("importType") or ""))
            elif tag == "decision":
                self._add(defs.decisions, self.decision(child))
            elif tag == "inputData":
                self._add(defs.inputs, m.InputData(**self._drg(child)))
            elif tag == "businessKnowledgeModel":
                self._add(defs.knowledge, self.knowledge(child))
            elif tag == "decisionService":
                self._add(defs.services, self.service(child))
        return defs

    def _add(self, table: dict[str, Any], element: m.DrgElement) -> None:
        table[element.id] = element

    def _drg(self, element: Any) -> dict[str, Any]:
        name = element.get("name") or element.get("id") or ""
        variable = _child(element, "variable")
        info = m.InformationItem(variable.get("name") or name if variable is not None else name,
                                 _type_ref(variable) if variable is not None else None)
        return {"id": element.get("id") or name, "name": name, "variable": info, "line": element.sourceline or 0,
                "label": element.get("label") or ""}

    def decision(self, element: Any) -> m.Decision:
        decision = m.Decision(**self._drg(element), expression=self.expression_in(element))
        for requirement in _children(element, "informationRequirement"):
            for tag, target in (("requiredDecision", decision.required_decisions),
                                ("requiredInput", decision.required_inputs)):
                for ref in _children(requirement, tag):
                    target.append(_href(ref))
        for requirement in _children(element, "knowledgeRequirement"):
            decision.required_knowledge.extend(_href(r) for r in _children(requirement, "requiredKnowledge"))
        return decision

    def knowledge(self, element: Any) -> m.BusinessKnowledgeModel:
        bkm = m.BusinessKnowledgeModel(**self._drg(element))
        logic = _child(element, "encapsulatedLogic")
        if logic is not None:
            bkm.logic = self.function_definition(logic)
        for requirement in _children(element, "knowledgeRequirement"):
            bkm.required_knowledge.extend(_href(r) for r in _children(requirement, "requiredKnowledge"))
        return bkm

    def service(self, element: Any) -> m.DecisionService:
        service = m.DecisionService(**self._drg(element))
        for tag, target in (("outputDecision", service.output_decisions),
                            ("encapsulatedDecision", service.encapsulated_decisions),
                            ("inputDecision", service.input_decisions), ("inputData", service.input_data)):
            target.extend(_href(r) for r in _children(element, tag))
        return service

    def item_definition(self, element: Any) -> m.ItemDefinition:
        allowed = _child(element, "allowedValues")
        function_item = _child(element, "functionItem")
        item = m.ItemDefinition(name=element.get("name") or "", type_ref=_type_ref(element),
                                allowed_values=self.unary_tests(allowed) if allowed is not None else None,
                                components=[self.item_definition(c) for c in _children(element, "itemComponent")],
                                is_collection=(element.get("isCollection") or "false").strip() == "true",
                                line=element.sourceline or 0)
        if function_item is not None:
            item.function_parameters = [self.information_item(p) for p in _children(function_item, "parameters")]
            item.function_output = function_item.get("outputTypeRef")
        return item

    def information_item(self, element: Any) -> m.InformationItem:
        return m.InformationItem(element.get("name") or "", _type_ref(element))

    # --- boxed expressions ---------------------------------------------------------------------------

    def expression_in(self, element: Any) -> m.Expression | None:
        """The first boxed expression among an element's children (None when it has none)."""
        for child in element:
            if _local(child) in _EXPRESSION_TAGS:
                return self.expression(child)
        return None

    def expression(self, element: Any) -> m.Expression:
        reader: Callable[[Any], m.Expression] = getattr(self, f"_read_{_local(element)}")
        return reader(element)

    def _node(self, element: Any) -> dict[str, Any]:
        return {"id": element.get("id"), "type_ref": _type_ref(element), "line": element.sourceline or 0}

    def literal(self, element: Any) -> m.LiteralExpression:
        text_element = _child(element, "text")
        node = self._node(element)
        if text_element is not None:
            node["line"] = text_element.sourceline or node["line"]
        return m.LiteralExpression(**node, text=(text_element.text or "") if text_element is not None else "",
                                   language=element.get("expressionLanguage"))

    _read_literalExpression = literal

    def unary_tests(self, element: Any) -> m.UnaryTests:
        text_element = _child(element, "text")
        line = (text_element.sourceline if text_element is not None else element.sourceline) or 0
        return m.UnaryTests(id=element.get("id"), line=line, text=(text_element.text or "") if text_element is not None
                            else "", language=element.get("expressionLanguage"))

    def _read_decisionTable(self, element: Any) -> m.DecisionTable:
        table = m.DecisionTable(**self._node(element), hit_policy=(element.get("hitPolicy") or "UNIQUE").upper(),
                                aggregation=element.get("aggregation"), output_label=element.get("outputLabel") or "")
        for clause in _children(element, "input"):
            expression = _child(clause, "inputExpression")
            values = _child(clause, "inputValues")
            literal = self.literal(expression) if expression is not None else m.LiteralExpression()
            table.inputs.append(m.InputClause(clause.get("id"), clause.get("label") or literal.text, literal,
                                              self.unary_tests(values) if values is not None else None,
                                              clause.sourceline or 0))
        for clause in _children(element, "output"):
            values = _child(clause, "outputValues")
            default = _child(clause, "defaultOutputEntry")
            table.outputs.append(m.OutputClause(clause.get("id"), clause.get("name") or "", clause.get("label") or "",
                                                _type_ref(clause),
                                                self.unary_tests(values) if values is not None else None,
                                                self.literal(default) if default is not None else None,
                                                clause.sourceline or 0))
        table.annotation_names = [a.get("name") or "" for a in _children(element, "annotation")]
        for rule in _children(element, "rule"):
            description = _child(rule, "description")
            table.rules.append(m.Rule(rule.get("id"), [self.unary_tests(e) for e in _children(rule, "inputEntry")],
                                      [self.literal(e) for e in _children(rule, "outputEntry")],
                                      [_text(a) for a in _children(rule, "annotationEntry")],
                                      (description.text or "").strip() if description is not None else "",
                                      rule.sourceline or 0))
        return table

    def _read_context(self, element: Any) -> m.Context:
        context = m.Context(**self._node(element))
        for entry in _children(element, "contextEntry"):
            variable = _child(entry, "variable")
            context.entries.append(m.ContextEntry(self.information_item(variable) if variable is not None else None,
                                                  self.expression_in(entry)))
        return context

    def _read_list(self, element: Any) -> m.ListExpression:
        return m.ListExpression(**self._node(element),
                                items=[self.expression(c) for c in element if _local(c) in _EXPRESSION_TAGS])

    def _read_relation(self, element: Any) -> m.Relation:
        relation = m.Relation(**self._node(element))
        relation.columns = [self.information_item(c) for c in _children(element, "column")]
        for row in _children(element, "row"):
            relation.rows.append([self.expression(c) for c in row if _local(c) in _EXPRESSION_TAGS])
        return relation

    def _read_invocation(self, element: Any) -> m.Invocation:
        invocation = m.Invocation(**self._node(element), callee=self.expression_in(element))
        for binding in _children(element, "binding"):
            parameter = _child(binding, "parameter")
            invocation.bindings.append(m.Binding(self.information_item(parameter) if parameter is not None
                                                 else m.InformationItem(""), self.expression_in(binding)))
        return invocation

    def function_definition(self, element: Any) -> m.FunctionDefinition:
        return m.FunctionDefinition(**self._node(element), kind=element.get("kind") or "FEEL",
                                    parameters=[self.information_item(p) for p in _children(element, "formalParameter")],
                                    body=self.expression_in(element))

    _read_functionDefinition = function_definition

    def _part(self, element: Any, name: str) -> m.Expression | None:
        child = _child(element, name)
        return self.expression_in(child) if child is not None else None

    def _read_conditional(self, element: Any) -> m.Conditional:
        return m.Conditional(**self._node(element), condition=self._part(element, "if"),
                             then=self._part(element, "then"), otherwise=self._part(element, "else"))

    def _iterator(self, element: Any, body: str) -> m.Iterator:
        return m.Iterator(**self._node(element), kind=_local(element), variable=element.get("iteratorVariable") or "",
                          source=self._part(element, "in"), body=self._part(element, body))

    def _read_for(self, element: Any) -> m.Iterator:
        return self._iterator(element, "return")

    def _read_some(self, element: Any) -> m.Iterator:
        return self._iterator(element, "satisfies")

    _read_every = _read_some

    def _read_filter(self, element: Any) -> m.Filter:
        return m.Filter(**self._node(element), source=self._part(element, "in"), match=self._part(element, "match"))


def read_dmn_tree(root: Any, file_name: str) -> m.Definitions:
    """The model of a parsed DMN root element."""
    return DmnReader(file_name).read(root)


def read_dmn_file(path: str | Path, display_name: str | None = None) -> m.Definitions:
    """Parse (hardened) and read one .dmn file."""
    name = display_name or str(path)
    return read_dmn_tree(parse_file(path, name).getroot(), name)


def read_dmn_bytes(content: bytes, display_name: str) -> m.Definitions:
    return read_dmn_tree(parse_bytes(content, display_name).getroot(), display_name)


def is_dmn_root(root: Any) -> bool:
    return _local(root) == "definitions" and (etree.QName(root).namespace or "") in DMN_VERSIONS
