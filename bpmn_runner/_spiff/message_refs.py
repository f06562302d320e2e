"""Message correlation, fixed where SpiffWorkflow mixes things up: a message's correlation properties are read
from the document that refers to it, not from every file parsed; a SpiffArena process-variable correlation that
cannot be evaluated names its catch event (and a simulation assumes null and lists it)."""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.parser.event_parsers import EventDefinitionParser
from SpiffWorkflow.bpmn.specs.event_definitions.message import CorrelationProperty
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition as SpiffMessageEventDefinition

from ..errors import ExpressionError

from ..namespaces import BPMN_NS

_NS = {"bpmn": BPMN_NS}
_KEYS = "//bpmn:correlationKey/bpmn:correlationPropertyRef"
_EXPRESSIONS = "//bpmn:correlationProperty/bpmn:correlationPropertyRetrievalExpression[@messageRef=$ref]"


def document_message_correlations(self: Any, message_ref: str) -> list[CorrelationProperty]:
    """The correlation properties whose retrieval expression names `message_ref` in this node's own document.

    SpiffWorkflow keeps one table of retrieval expressions by message id for all files parsed together, so two
    files that both use an id such as `Message_1` for different messages made each catch evaluate the other
    message's expressions on its payload (and fail). Only the expressions of the message that arrives count."""
    root = self.node.getroottree()
    used_by: dict[str, list[str]] = {}
    for ref in root.xpath(_KEYS, namespaces=_NS):
        if ref.text and ref.text.strip():
            used_by.setdefault(ref.text.strip(), []).append(ref.getparent().get("name"))
    out: list[CorrelationProperty] = []
    for expression in root.xpath(_EXPRESSIONS, namespaces=_NS, ref=message_ref):
        children = [child for child in expression if isinstance(child.tag, str)]
        text = children[0].text if children else None
        prop_id = expression.getparent().get("id")
        if text is None or not text.strip() or prop_id is None:
            continue
        out.append(CorrelationProperty(prop_id, text.strip(), list(used_by.get(prop_id, []))))
    return out


def _process_correlations(self: Any, my_task: Any) -> None:
    """SpiffWorkflow's update_task for `spiffworkflow:processVariableCorrelation`, evaluated over the task's data
    with the catch event named when an expression fails."""
    engine = my_task.workflow.script_engine
    element_id = getattr(my_task.task_spec, "bpmn_id", None)
    correlations: dict[str, dict[str, Any]] = {}
    for prop in self.process_correlations:
        try:
            value = engine.environment.evaluate(prop.retrieval_expression, my_task.data)
        except ExpressionError as exc:
            simulator = getattr(engine, "simulator", None)
            what = (f"the correlation property {prop.name} ({prop.retrieval_expression}) of message "
                    f"{self.name!r} cannot be evaluated: {exc.message}")
            if simulator is None:
                raise ExpressionError(what, element_id=element_id) from None
            simulator.record(element_id or "", f"{what}; assumed null")
            value = None
        for key in prop.correlation_keys:
            correlations.setdefault(key, {})[prop.name] = value
    my_task.workflow.correlations.update(correlations)


def apply() -> None:
    EventDefinitionParser.get_message_correlations = document_message_correlations
    SpiffMessageEventDefinition.update_task = _process_correlations
