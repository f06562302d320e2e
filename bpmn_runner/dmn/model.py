"""DMN model: plain dataclasses for definitions, DRG elements and boxed expressions (no XML, no evaluation)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union


@dataclass
class InformationItem:
    """A named, typed variable: a decision's output, a parameter, a context entry, a relation column."""

    name: str
    type_ref: str | None = None


@dataclass
class Node:
    """Common to every boxed expression: where it sits and the type its value must have."""

    id: str | None = None
    type_ref: str | None = None
    line: int = 0


@dataclass
class LiteralExpression(Node):
    text: str = ""
    language: str | None = None     # None: the definitions' expression language (FEEL by default)


@dataclass
class UnaryTests(Node):
    text: str = ""
    language: str | None = None


@dataclass
class InputClause:
    id: str | None
    label: str
    expression: LiteralExpression
    input_values: UnaryTests | None = None
    line: int = 0


@dataclass
class OutputClause:
    id: str | None
    name: str
    label: str = ""
    type_ref: str | None = None
    output_values: UnaryTests | None = None
    default: LiteralExpression | None = None
    line: int = 0


@dataclass
class Rule:
    id: str | None
    input_entries: list[UnaryTests]
    output_entries: list[LiteralExpression]
    annotations: list[str] = field(default_factory=list)
    description: str = ""
    line: int = 0


@dataclass
class DecisionTable(Node):
    hit_policy: str = "UNIQUE"
    aggregation: str | None = None
    inputs: list[InputClause] = field(default_factory=list)
    outputs: list[OutputClause] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    annotation_names: list[str] = field(default_factory=list)
    output_label: str = ""
    cache: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass
class ContextEntry:
    variable: InformationItem | None     # None: the context's final result
    value: "Expression | None"


@dataclass
class Context(Node):
    entries: list[ContextEntry] = field(default_factory=list)


@dataclass
class ListExpression(Node):
    items: list["Expression"] = field(default_factory=list)


@dataclass
class Relation(Node):
    columns: list[InformationItem] = field(default_factory=list)
    rows: list[list["Expression"]] = field(default_factory=list)


@dataclass
class Binding:
    parameter: InformationItem
    value: "Expression | None"


@dataclass
class Invocation(Node):
    callee: "Expression | None" = None
    bindings: list[Binding] = field(default_factory=list)


@dataclass
class FunctionDefinition(Node):
    parameters: list[InformationItem] = field(default_factory=list)
    body: "Expression | None" = None
    kind: str = "FEEL"                 # FEEL | Java | PMML


@dataclass
class Conditional(Node):
    condition: "Expression | None" = None
    then: "Expression | None" = None
    otherwise: "Expression | None" = None


@dataclass
class Iterator(Node):
    kind: str = "for"                  # for | some | every
    variable: str = ""
    source: "Expression | None" = None
    body: "Expression | None" = None   # for: return; some/every: satisfies


@dataclass
class Filter(Node):
    source: "Expression | None" = None
    match: "Expression | None" = None


Expression = Union[LiteralExpression, DecisionTable, Context, ListExpression, Relation, Invocation,
                   FunctionDefinition, Conditional, Iterator, Filter]


@dataclass
class Reference:
    """An `href`: `#id` in the same model, or `namespace#id` in an imported one."""

    namespace: str
    id: str


@dataclass
class DrgElement:
    id: str
    name: str
    variable: InformationItem
    line: int = 0
    label: str = ""


@dataclass
class InputData(DrgElement):
    pass


@dataclass
class Decision(DrgElement):
    expression: Expression | None = None
    required_decisions: list[Reference] = field(default_factory=list)
    required_inputs: list[Reference] = field(default_factory=list)
    required_knowledge: list[Reference] = field(default_factory=list)


@dataclass
class BusinessKnowledgeModel(DrgElement):
    logic: FunctionDefinition | None = None
    required_knowledge: list[Reference] = field(default_factory=list)


@dataclass
class DecisionService(DrgElement):
    output_decisions: list[Reference] = field(default_factory=list)
    encapsulated_decisions: list[Reference] = field(default_factory=list)
    input_decisions: list[Reference] = field(default_factory=list)
    input_data: list[Reference] = field(default_factory=list)


@dataclass
class ItemDefinition:
    name: str
    type_ref: str | None = None
    allowed_values: UnaryTests | None = None
    components: list["ItemDefinition"] = field(default_factory=list)
    is_collection: bool = False
    function_parameters: list[InformationItem] | None = None   # a functionItem: its parameters
    function_output: str | None = None
    line: int = 0


@dataclass
class Import:
    namespace: str
    name: str
    location: str = ""
    import_type: str = ""


@dataclass
class Definitions:
    """One DMN file."""

    id: str
    name: str
    namespace: str
    file: str
    version: str                       # 1.1 .. 1.5
    expression_language: str | None = None
    item_definitions: dict[str, ItemDefinition] = field(default_factory=dict)
    decisions: dict[str, Decision] = field(default_factory=dict)
    inputs: dict[str, InputData] = field(default_factory=dict)
    knowledge: dict[str, BusinessKnowledgeModel] = field(default_factory=dict)
    services: dict[str, DecisionService] = field(default_factory=dict)
    imports: list[Import] = field(default_factory=list)

    def element(self, element_id: str) -> DrgElement | None:
        for table in (self.decisions, self.inputs, self.knowledge, self.services):
            if element_id in table:
                return table[element_id]
        return None

    def find_decision(self, id_or_name: str) -> Decision | None:
        if id_or_name in self.decisions:
            return self.decisions[id_or_name]
        return next((d for d in self.decisions.values() if d.name == id_or_name), None)
