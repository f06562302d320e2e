"""Walk a DMN model: every FEEL text (literal expressions and unary tests) with where it sits, and every name."""

from __future__ import annotations

from typing import Iterator

from .model import (Conditional, Context, DecisionTable, Definitions, Expression, Filter, FunctionDefinition,
                    Invocation, Iterator as IteratorNode, ListExpression, LiteralExpression, Relation, UnaryTests)


def expressions_of(definitions: Definitions) -> Iterator[tuple[str, Expression]]:
    """(owner description, top-level boxed expression) of every decision and BKM."""
    for decision in definitions.decisions.values():
        if decision.expression is not None:
            yield f"decision {decision.name!r}", decision.expression
    for bkm in definitions.knowledge.values():
        if bkm.logic is not None:
            yield f"business knowledge model {bkm.name!r}", bkm.logic


def feel_texts(definitions: Definitions) -> Iterator[tuple[str, LiteralExpression | UnaryTests]]:
    """Every literal expression and unary test, with its owner."""
    for owner, expression in expressions_of(definitions):
        for node in _nodes(expression):
            yield owner, node
    for item in definitions.item_definitions.values():
        stack = [item]
        while stack:
            current = stack.pop()
            if current.allowed_values is not None:
                yield f"item definition {item.name!r}", current.allowed_values
            stack.extend(current.components)


def _nodes(expression: Expression | None) -> Iterator[LiteralExpression | UnaryTests]:
    if expression is None:
        return
    if isinstance(expression, LiteralExpression):
        yield expression
    elif isinstance(expression, DecisionTable):
        for clause in expression.inputs:
            yield clause.expression
            if clause.input_values is not None:
                yield clause.input_values
        for output in expression.outputs:
            if output.output_values is not None:
                yield output.output_values
            if output.default is not None:
                yield output.default
        for rule in expression.rules:
            yield from rule.input_entries
            yield from (e for e in rule.output_entries if e.text.strip())
    else:
        for child in _children(expression):
            yield from _nodes(child)


def _children(expression: Expression) -> list[Expression | None]:
    if isinstance(expression, Context):
        return [e.value for e in expression.entries]
    if isinstance(expression, ListExpression):
        return list(expression.items)
    if isinstance(expression, Relation):
        return [cell for row in expression.rows for cell in row]
    if isinstance(expression, Invocation):
        return [expression.callee] + [b.value for b in expression.bindings]
    if isinstance(expression, FunctionDefinition):
        return [expression.body]
    if isinstance(expression, Conditional):
        return [expression.condition, expression.then, expression.otherwise]
    if isinstance(expression, IteratorNode):
        return [expression.source, expression.body]
    if isinstance(expression, Filter):
        return [expression.source, expression.match]
    return []


def known_names(definitions: Definitions) -> frozenset[str]:
    """Every name a FEEL text of the model may use: DRG elements, imports, components, entries, parameters."""
    names: set[str] = {i.name for i in definitions.imports}
    for table in (definitions.decisions, definitions.inputs, definitions.knowledge, definitions.services):
        names.update(e.name for e in table.values())
    stack = list(definitions.item_definitions.values())
    while stack:
        item = stack.pop()
        names.update(c.name for c in item.components)
        stack.extend(item.components)
    for _, expression in expressions_of(definitions):
        todo: list[Expression | None] = [expression]
        while todo:
            node = todo.pop()
            if node is None:
                continue
            if isinstance(node, Context):
                names.update(e.variable.name for e in node.entries if e.variable is not None)
            elif isinstance(node, FunctionDefinition):
                names.update(p.name for p in node.parameters)
            elif isinstance(node, IteratorNode):
                names.add(node.variable)
            elif isinstance(node, Relation):
                names.update(c.name for c in node.columns)
            elif isinstance(node, DecisionTable):
                names.update(o.name for o in node.outputs if o.name)
            todo.extend(_children(node))
    return frozenset(n for n in names if n)


def uses_python(definitions: Definitions) -> bool:
    """SpiffWorkflow-style DMN: cells marked `expressionLanguage="python"` (evaluated by SpiffWorkflow, not FEEL)."""
    if "python" in (definitions.expression_language or "").lower():
        return True
    return any("python" in (node.language or "").lower() for _, node in feel_texts(definitions))
