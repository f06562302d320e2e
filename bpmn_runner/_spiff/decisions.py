"""Business rule tasks evaluated by our DMN engine (Camunda 7, Camunda 8 and plain DMN): spec, binding, serializer."""

from __future__ import annotations

import contextvars
import hashlib
from collections import OrderedDict
from contextlib import contextmanager
from typing import Any, Iterator

from lxml import etree
from SpiffWorkflow.bpmn.serializer.helpers.spec import TaskSpecConverter
from SpiffWorkflow.bpmn.specs.mixins.bpmn_spec_mixin import BpmnSpecMixin
from SpiffWorkflow.dmn.parser.BpmnDmnParser import BpmnDmnParser

from .. import feel
from ..dmn import DecisionModel, Definitions
from ..dmn.errors import DecisionError
from ..dmn.inputs import convert_inputs
from ..dmn.refs import is_dynamic_ref
from ..dmn.model import DecisionTable
from ..dmn.results import map_decision_result, merged_outputs, rule_results
from ..dmn.tables import HIT_POLICY_ABBREVIATIONS, SINGLE_HIT
from ..dmn.walk import uses_python
from ..expressions.decision_result import DECISION_ROWS
from ..models import TaskReader

_MODELS: OrderedDict[str, DecisionModel] = OrderedDict()
_MODELS_KEPT = 64   # a worker that runs many definition versions keeps the recent ones parsed
_RESTORING: contextvars.ContextVar[TaskReader | None] = contextvars.ContextVar("dmn_reader", default=None)


@contextmanager
def restoring_with(reader: TaskReader | None) -> Iterator[None]:
    """While specs are restored from JSON, decisions not read in this process are read with `reader`."""
    token = _RESTORING.set(reader)
    try:
        yield
    finally:
        _RESTORING.reset(token)


def _digest(sources: list[tuple[str, bytes]]) -> str:
    return hashlib.sha256(b"\0".join(name.encode() + b"\0" + content for name, content in sources)).hexdigest()


def model_from_sources(sources: list[tuple[str, bytes]],
                       definitions: list[Definitions] | None = None) -> DecisionModel:
    """One decision model per set of DMN file contents (read once by the loader's reader as the files are parsed,
    shared by every task that uses it)."""
    digest = _digest(sources)
    model = _MODELS.get(digest)
    if model is None:
        if definitions is None:
            raise DecisionError("the decisions of this stored spec were never read in this process; restore it "
                                "with the loader's reader: spec_from_json(family, text, reader=TASK_READER)")
        model = DecisionModel(definitions)
        _MODELS[digest] = model
        while len(_MODELS) > _MODELS_KEPT:
            _MODELS.popitem(last=False)
    _MODELS.move_to_end(digest)
    return model


class RunnerDecisionEngine:
    """What a business rule task holds: the decision model (and its sources, for serialization) and the decision."""

    def __init__(self, sources: list[tuple[str, bytes]], decision_id: str,
                 definitions: list[Definitions] | None = None) -> None:
        self.sources = sources
        self.decision_id = decision_id
        self.model = model_from_sources(sources, definitions)

    def evaluate(self, data: dict[str, Any]) -> Any:
        inputs = convert_inputs(self.model, data)
        decision_id = self.resolve_id(data)
        try:
            self.model.find_decision(decision_id)
        except KeyError as exc:
            raise DecisionError(str(exc.args[0])) from None
        result = self.model.evaluate(decision_id, inputs, variables=True)
        if result.errors:
            raise DecisionError(f"decision {decision_id!r}: {result.errors[0]}")
        return result

    def resolve_id(self, data: dict[str, Any]) -> str:
        """The decision id; `=expr` (Camunda 8) or `${expr}` (Camunda 7) is evaluated against the process data."""
        if not is_dynamic_ref(self.decision_id):
            return self.decision_id
        from ..expressions import evaluate as evaluate_expression
        value = evaluate_expression(self.decision_id, data)
        if not isinstance(value, str) or not value:
            raise DecisionError(f"the decision reference {self.decision_id!r} gives {value!r}, not a decision id")
        return value

    def is_multiple(self, decision_id: str) -> bool:
        _, decision = self.model.find_decision(decision_id)
        table = decision.expression
        if not isinstance(table, DecisionTable):
            return False
        policy = HIT_POLICY_ABBREVIATIONS.get(table.hit_policy, table.hit_policy)
        return policy not in SINGLE_HIT and not table.aggregation


class DecisionTask(BpmnSpecMixin):
    """A business rule task that evaluates a DMN decision and stores the result as its dialect says:
    Camunda 7 `camunda:resultVariable` + `camunda:mapDecisionResult` (without one, nothing is stored), Camunda 8
    `zeebe:calledDecision resultVariable`, or (plain BPMN, no result variable) the outputs merged into the data."""

    def __init__(self, wf_spec: Any, bpmn_id: str, engine: RunnerDecisionEngine | None = None,
                 decision: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.engine = engine
        self.decision = dict(decision or {})

    def _run_hook(self, my_task: Any) -> bool:
        assert self.engine is not None
        result = self.engine.evaluate(my_task.data)
        my_task.internal_data["matched_rules"] = list(result.matched_rules.get(result.decision_id, []))
        variable = self.decision.get("result_variable")
        dialect = self.decision.get("dialect")
        if variable and dialect == "camunda8":
            my_task.data[variable] = feel.to_json(result.value)
        else:
            rows = rule_results(self.engine.model, result)
            if variable:
                my_task.data[variable] = map_decision_result(self.decision.get("map_decision_result"), rows,
                                                             result.decision_id)
            elif dialect == "camunda7":
                pass  # Camunda 7 stores the decision result only under camunda:resultVariable
            else:
                my_task.data.update(merged_outputs(rows, self.engine.is_multiple(result.decision_id)))
        if (getattr(self, "runner_scope", None) or {}).get("outputs"):
            # Camunda 7: output parameters see the decision result as `decisionResult` (scopes.leave)
            my_task.internal_data[DECISION_ROWS] = rule_results(self.engine.model, result)
        return True


class DecisionTaskConverter(TaskSpecConverter):
    """Serializes the decision binding and the DMN sources, so a stored definition runs without the files."""

    def to_dict(self, spec: DecisionTask) -> dict[str, Any]:
        dct = self.get_default_attributes(spec)
        dct["decision"] = dict(spec.decision)
        engine = spec.engine
        dct["decision_id"] = engine.decision_id if engine else None
        dct["dmn_sources"] = [[name, content.decode("utf-8")] for name, content in (engine.sources if engine else [])]
        return dct

    def from_dict(self, dct: dict[str, Any]) -> DecisionTask:
        sources = [(name, text.encode("utf-8")) for name, text in dct.pop("dmn_sources", [])]
        decision_id = dct.pop("decision_id", None)
        reader = _RESTORING.get()
        definitions = None
        if decision_id and reader is not None and _digest(sources) not in _MODELS:
            definitions = [reader.decisions_from_bytes(content, name) for name, content in sources]
        dct["engine"] = RunnerDecisionEngine(sources, decision_id, definitions) if decision_id else None
        return self.task_spec_from_dict(dct)


def add_dmn_xml(parser: Any, node: Any, filename: str | None = None) -> None:
    """Camunda-family parsers read DMN with our reader (SpiffWorkflow's reads Python cells and one table only)."""
    name = filename or "decisions.dmn"
    definitions = parser.runner_reader.decisions(node, name)
    if uses_python(definitions):
        # SpiffWorkflow-style Python cells: SpiffWorkflow's own DMN engine evaluates them, as before
        BpmnDmnParser.add_dmn_xml(parser, node, filename)
        parser.__dict__.setdefault("python_decisions", set()).update(definitions.decisions)
        return
    sources: list[tuple[str, bytes]] = parser.__dict__.setdefault("runner_dmn_sources", [])
    sources.append((name, etree.tostring(node, encoding="utf-8")))  # kept so a stored spec names its decisions
    parser.__dict__.setdefault("runner_dmn_definitions", []).append(definitions)
    for decision in definitions.decisions.values():
        parser.dmn_parsers.setdefault(decision.id, definitions)
        parser.dmn_parsers_by_name.setdefault(decision.name, definitions)


def is_python_decision(parser: Any, decision_ref: str) -> bool:
    return decision_ref in parser.__dict__.get("python_decisions", ())


def engine_for(parser: Any, decision_ref: str) -> RunnerDecisionEngine | None:
    if not is_dynamic_ref(decision_ref) and decision_ref not in parser.dmn_parsers:
        by_name = parser.dmn_parsers_by_name.get(decision_ref)
        if by_name is None:
            return None
    return RunnerDecisionEngine(list(parser.__dict__.get("runner_dmn_sources", [])), decision_ref,
                                list(parser.__dict__.get("runner_dmn_definitions", [])))
