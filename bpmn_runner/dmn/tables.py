"""Decision table evaluation: input values, rule matching, output values and every hit policy (DMN 1.5 8.3)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .. import feel
from .errors import DmnProblem
from .fastpath import USE_FEEL, compile_entry
from .text import rule_label, split_top_level
from .model import DecisionTable, OutputClause, Rule, UnaryTests

if TYPE_CHECKING:
    from .boxed import BoxedEvaluator

SINGLE_HIT = {"UNIQUE", "ANY", "PRIORITY", "FIRST"}
HIT_POLICY_ABBREVIATIONS = {"U": "UNIQUE", "A": "ANY", "P": "PRIORITY", "F": "FIRST", "R": "RULE ORDER",
                            "O": "OUTPUT ORDER", "C": "COLLECT"}
_LOWEST = 1 << 30


@dataclass
class TableResult:
    value: Any
    matched: list[str] = field(default_factory=list)   # rule ids (or "rule N" where the rule has no id)


class TableEvaluator:
    """Evaluates one decision table against a scope."""

    def __init__(self, boxed: "BoxedEvaluator") -> None:
        self.boxed = boxed

    def evaluate(self, table: DecisionTable, scope: dict[str, Any]) -> TableResult:
        policy = HIT_POLICY_ABBREVIATIONS.get(table.hit_policy, table.hit_policy)
        values = [self.boxed.literal(clause.expression, scope, typed=False) for clause in table.inputs]
        for clause, value in zip(table.inputs, values):
            if clause.input_values is not None and clause.input_values.text.strip() and value is not None \
                    and not self.boxed.unary(clause.input_values, value, scope):
                raise DmnProblem(f"input {clause.label!r} is {self.boxed.show(value)}, which is not among its input "
                                 f"values ({clause.input_values.text.strip()})", clause.line)
        matched = [(index, table.rules[index]) for index in self._matching(table, values, scope)]
        if policy == "FIRST":
            matched = matched[:1]
        labels = [rule_label(rule, index) for index, rule in matched]
        if not matched:
            return TableResult(self._defaults(table, policy, scope), [])
        outputs = [self._outputs(table, rule, scope) for _, rule in matched]
        return TableResult(self._apply_policy(table, policy, outputs, labels), labels)

    def _matching(self, table: DecisionTable, values: list[Any], scope: dict[str, Any]) -> list[int]:
        """Indexes of the matching rules, in rule order: column by column over the rules still in the running,
        simple entries by a compiled matcher, the others by FEEL."""
        matchers = table.cache.get("matchers")
        if matchers is None:
            matchers = [[compile_entry(e.text) for e in rule.input_entries] for rule in table.rules]
            table.cache["matchers"] = matchers
        candidates = list(range(len(table.rules)))
        feel_scope = None
        for column, value in enumerate(values):
            structured = isinstance(value, (list, dict))   # compiled matchers know scalars; FEEL decides the rest
            kept = []
            for index in candidates:
                row = matchers[index]
                if column >= len(row):
                    kept.append(index)
                    continue
                matcher = row[column]
                if matcher is None:
                    kept.append(index)
                elif structured or matcher == USE_FEEL:
                    if feel_scope is None:
                        feel_scope = feel.test_scope(scope, self.boxed.instance_of)
                    if self.boxed.unary_in(table.rules[index].input_entries[column], value, scope, feel_scope):
                        kept.append(index)
                elif matcher(value):
                    kept.append(index)
            candidates = kept
            if not candidates:
                break
        return candidates

    def _outputs(self, table: DecisionTable, rule: Rule, scope: dict[str, Any]) -> list[Any]:
        out = []
        for clause, entry in zip(table.outputs, rule.output_entries):
            value = self.boxed.literal(entry, scope) if entry.text.strip() else None
            out.append(self._checked(clause, value, scope))
        return out

    def _checked(self, clause: OutputClause, value: Any, scope: dict[str, Any]) -> Any:
        if clause.output_values is not None and clause.output_values.text.strip() and value is not None \
                and not self.boxed.unary(clause.output_values, value, scope):
            raise DmnProblem(f"output {clause.name or clause.label!r} is {self.boxed.show(value)}, which is not "
                             f"among its output values ({clause.output_values.text.strip()})", clause.line)
        if clause.type_ref:
            value = self.boxed.coerce(value, clause.type_ref, f"output {clause.name or clause.label!r}")
        return value

    def _shape(self, table: DecisionTable, outputs: list[Any]) -> Any:
        if len(table.outputs) == 1:
            return outputs[0]
        return {clause.name: value for clause, value in zip(table.outputs, outputs)}

    def _defaults(self, table: DecisionTable, policy: str, scope: dict[str, Any]) -> Any:
        if not any(clause.default is not None for clause in table.outputs):
            if policy == "COLLECT" and (table.aggregation or "").upper() == "COUNT":
                return Decimal(0)
            return None if policy in SINGLE_HIT or table.aggregation else []
        outputs = [self._checked(c, self.boxed.literal(c.default, scope) if c.default is not None else None, scope)
                   for c in table.outputs]
        value = self._shape(table, outputs)
        return value if policy in SINGLE_HIT or table.aggregation else [value]

    def _priority(self, table: DecisionTable, outputs: list[Any], scope: dict[str, Any]) -> tuple[int, ...]:
        key = []
        for clause, value in zip(table.outputs, outputs):
            if clause.output_values is None or not clause.output_values.text.strip():
                continue
            key.append(self._rank(clause.output_values, value, scope))
        return tuple(key)

    def _rank(self, tests: UnaryTests, value: Any, scope: dict[str, Any]) -> int:
        cache_key = ("ranks", id(tests))
        parts = self.boxed.cache.get(cache_key)
        if parts is None:
            parts = [UnaryTests(text=p, line=tests.line) for p in split_top_level(tests.text)]
            self.boxed.cache[cache_key] = parts
        for index, part in enumerate(parts):
            if self.boxed.unary(part, value, scope):
                return index
        return _LOWEST

    def _apply_policy(self, table: DecisionTable, policy: str, outputs: list[list[Any]], labels: list[str]) -> Any:
        scope: dict[str, Any] = {}
        shaped = [self._shape(table, o) for o in outputs]
        if policy == "UNIQUE":
            if len(shaped) > 1:
                raise DmnProblem(f"hit policy UNIQUE, but {len(shaped)} rules match ({', '.join(labels)}); make the "
                                 f"rules exclusive or choose another hit policy", table.line)
            return shaped[0]
        if policy == "ANY":
            if any(not _same(s, shaped[0]) for s in shaped[1:]):
                raise DmnProblem(f"hit policy ANY, but the matching rules ({', '.join(labels)}) give different "
                                 f"outputs", table.line)
            return shaped[0]
        if policy == "FIRST":
            return shaped[0]
        if policy == "PRIORITY":
            ranked = sorted(range(len(outputs)), key=lambda i: self._priority(table, outputs[i], scope))
            return shaped[ranked[0]]
        if policy == "RULE ORDER":
            return shaped
        if policy == "OUTPUT ORDER":
            ranked = sorted(range(len(outputs)), key=lambda i: self._priority(table, outputs[i], scope))
            return [shaped[i] for i in ranked]
        if policy == "COLLECT":
            return self._aggregate(table, shaped)
        raise DmnProblem(f"unknown hit policy {table.hit_policy!r}", table.line)

    def _aggregate(self, table: DecisionTable, values: list[Any]) -> Any:
        aggregation = (table.aggregation or "").upper()
        if not aggregation:
            return values
        if len(table.outputs) > 1:
            raise DmnProblem(f"hit policy COLLECT {aggregation} needs a single output column", table.line)
        present = [v for v in values if v is not None]
        if aggregation == "COUNT":
            return Decimal(len(present))
        if not present:
            return None
        if aggregation == "SUM":
            if not all(isinstance(v, Decimal) for v in present):
                raise DmnProblem("hit policy COLLECT SUM needs numbers", table.line)
            total = Decimal(0)
            for v in present:
                total += v
            return total
        try:
            return min(present) if aggregation == "MIN" else max(present)
        except TypeError:
            raise DmnProblem(f"hit policy COLLECT {aggregation} needs values that compare", table.line) from None


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b
