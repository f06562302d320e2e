"""Rules for DMN files: FEEL syntax with line and column, table shape, hit policies, overlapping UNIQUE/ANY rules,
requirements that name existing elements."""

from __future__ import annotations

from .. import feel
from ..dmn.boxed import compile_literal, is_feel
from ..dmn.model import DecisionTable, Definitions, LiteralExpression
from ..dmn.overlap import overlapping_rules
from ..dmn.tables import HIT_POLICY_ABBREVIATIONS
from ..dmn.walk import expressions_of, feel_texts, known_names, uses_python
from ..errors import BpmnRunnerError
from ..loader.dmn import read_dmn_tree
from ..loader.documents import Document
from ..dmn.results import MAPPINGS
from ._core import Context, Rule, describe

DMN_FEEL = Rule("dmn-feel-syntax", "error", "every FEEL expression and unary test of a DMN file parses")
DMN_TABLE = Rule("dmn-table-shape", "error", "each rule of a decision table has one entry per input and output, "
                                              "and the hit policy and aggregation are valid")
DMN_UNIQUE = Rule("dmn-unique-overlap", "error", "no two rules of a UNIQUE decision table match the same input, "
                                                   "nor two rules of an ANY table with different outputs")
DMN_REFERENCE = Rule("dmn-reference", "error", "information, knowledge and decision service references name "
                                               "elements of the loaded DMN files")
DECISION_RESULT = Rule("decision-result-mapping", "error", "camunda:mapDecisionResult is singleEntry, singleResult, "
                                                           "collectEntries or resultList, with a camunda:resultVariable")
RULES = [DMN_FEEL, DMN_TABLE, DMN_UNIQUE, DMN_REFERENCE, DECISION_RESULT]
_CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
_POLICIES = set(HIT_POLICY_ABBREVIATIONS.values())
_AGGREGATIONS = {"SUM", "COUNT", "MIN", "MAX"}


def check_dmn_files(ctx: Context) -> None:
    documents = [d for d in ctx.documents if d.kind == "dmn"]
    python_cells = any(d.dialect == "spiff" for d in ctx.documents if d.kind == "bpmn")
    models: list[tuple[Document, Definitions]] = []
    for document in documents:
        try:
            models.append((document, read_dmn_tree(document.root, document.name)))
        except BpmnRunnerError:
            continue   # the engine-load rule reports an unreadable file
    namespaces = {defs.namespace: defs for _, defs in models}
    for document, defs in models:
        if not python_cells and is_feel(defs.expression_language) and not uses_python(defs):
            _feel_syntax(ctx, document, defs)
        _tables(ctx, document, defs)
        _references(ctx, document, defs, namespaces)


def _feel_syntax(ctx: Context, document: Document, defs: Definitions) -> None:
    names = known_names(defs)
    for owner, node in feel_texts(defs):
        text = node.text
        if not text.strip() or not is_feel(node.language or defs.expression_language):
            continue
        try:
            if isinstance(node, LiteralExpression):
                compile_literal(text, names)
            else:
                feel.compile_unary_tests(text)
        except feel.FeelSyntaxError as exc:
            column = getattr(exc, "column", None) or 1
            line = (node.line or 1) + text[:column - 1].count("\n")
            ctx.report(DMN_FEEL, document, None, f"{owner}: {exc}", line=line)


def _tables(ctx: Context, document: Document, defs: Definitions) -> None:
    for owner, expression in expressions_of(defs):
        for table in _tables_in(expression):
            _table(ctx, document, owner, table)


def _tables_in(expression: object) -> list[DecisionTable]:
    from ..dmn.walk import _children
    found: list[DecisionTable] = []
    todo = [expression]
    while todo:
        node = todo.pop()
        if isinstance(node, DecisionTable):
            found.append(node)
        elif node is not None:
            todo.extend(_children(node))  # type: ignore[arg-type]
    return found


def _table(ctx: Context, document: Document, owner: str, table: DecisionTable) -> None:
    policy = HIT_POLICY_ABBREVIATIONS.get(table.hit_policy, table.hit_policy)
    if policy not in _POLICIES:
        ctx.report(DMN_TABLE, document, None, f"{owner}: unknown hit policy {table.hit_policy!r}; use one of "
                                              f"{', '.join(sorted(_POLICIES))}", line=table.line)
    if table.aggregation and (policy != "COLLECT" or table.aggregation.upper() not in _AGGREGATIONS):
        ctx.report(DMN_TABLE, document, None, f"{owner}: aggregation {table.aggregation!r} needs hit policy COLLECT "
                                              f"and one of SUM, COUNT, MIN, MAX", line=table.line)
    if table.aggregation and len(table.outputs) > 1:
        ctx.report(DMN_TABLE, document, None, f"{owner}: COLLECT {table.aggregation} needs a single output column",
                   line=table.line)
    if policy in ("PRIORITY", "OUTPUT ORDER") and not any(o.output_values for o in table.outputs):
        ctx.report(DMN_TABLE, document, None, f"{owner}: hit policy {policy} needs output values to rank the "
                                              f"outputs; list them on the output column", line=table.line)
    for index, rule in enumerate(table.rules):
        if len(rule.input_entries) != len(table.inputs) or len(rule.output_entries) != len(table.outputs):
            ctx.report(DMN_TABLE, document, None, f"{owner}: rule {index + 1} has {len(rule.input_entries)} input "
                                                  f"and {len(rule.output_entries)} output entries for "
                                                  f"{len(table.inputs)} inputs and {len(table.outputs)} outputs",
                       line=rule.line or table.line)
    if policy == "UNIQUE" and len(table.rules) <= 1000:   # pairwise: larger tables would slow validate down
        for first, second in overlapping_rules(table):
            line = next((r.line for r in table.rules if r.id == second), table.line)
            ctx.report(DMN_UNIQUE, document, None, f"{owner}: hit policy UNIQUE, but rules {first} and {second} "
                                                   f"can both match; make them exclusive or use FIRST/PRIORITY",
                       line=line)
    if policy == "ANY" and len(table.rules) <= 1000:
        # DMN 1.5 section 8.2.10: with ANY, overlapping rules must give equal outputs
        for first, second in overlapping_rules(table, differing_outputs=True):
            line = next((r.line for r in table.rules if r.id == second), table.line)
            ctx.report(DMN_UNIQUE, document, None, f"{owner}: hit policy ANY, but rules {first} and {second} can "
                                                   f"both match with different outputs; give them the same output "
                                                   f"or use FIRST/PRIORITY/COLLECT", line=line)


def _references(ctx: Context, document: Document, defs: Definitions, namespaces: dict[str, Definitions]) -> None:
    elements = list(defs.decisions.values()) + list(defs.knowledge.values()) + list(defs.services.values())
    for element in elements:
        refs = []
        for attribute in ("required_decisions", "required_inputs", "required_knowledge", "output_decisions",
                          "encapsulated_decisions", "input_decisions", "input_data"):
            refs.extend(getattr(element, attribute, []))
        for ref in refs:
            target = defs if not ref.namespace or ref.namespace == defs.namespace else namespaces.get(ref.namespace)
            if target is None or target.element(ref.id) is None:
                where = f" in {ref.namespace}" if ref.namespace and target is None else ""
                ctx.report(DMN_REFERENCE, document, None, f"{element.name!r} refers to {ref.id!r}{where}, which no "
                                                          f"loaded DMN file defines", line=element.line)


def check_decision_result_mappings(ctx: Context, document: Document) -> None:
    """Camunda 7 business rule tasks: a mapping Camunda knows, and a variable to put the result in."""
    for task in ctx.index(document).elements("businessRuleTask"):
        mapping = task.get(f"{{{_CAMUNDA}}}mapDecisionResult")
        if mapping is None:
            continue
        if mapping not in MAPPINGS:
            ctx.report(DECISION_RESULT, document, task, f"{describe(task)}: camunda:mapDecisionResult {mapping!r} is "
                                                        f"not one of {', '.join(MAPPINGS)}")
        elif not task.get(f"{{{_CAMUNDA}}}resultVariable"):
            ctx.report(DECISION_RESULT, document, task, f"{describe(task)}: camunda:mapDecisionResult without "
                                                        f"camunda:resultVariable stores nothing; name the variable",
                       severity="warning")


PER_DOCUMENT = (check_decision_result_mappings,)
ACROSS_DOCUMENTS = [check_dmn_files]
