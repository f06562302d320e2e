"""The one table of BPMN element kinds (local tag names) and how each kind is named to a user."""

from __future__ import annotations

TASK_KINDS = frozenset({"task", "serviceTask", "userTask", "scriptTask", "sendTask", "receiveTask",
                        "businessRuleTask", "manualTask"})
SUBPROCESS_KINDS = frozenset({"subProcess", "adHocSubProcess", "transaction"})
ACTIVITY_KINDS = TASK_KINDS | SUBPROCESS_KINDS | {"callActivity"}
EVENT_KINDS = frozenset({"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent",
                         "boundaryEvent"})
#: Abstract in BPMN 2.0 but written by some tools; drawn like a throw event, never executed.
ABSTRACT_EVENT_KINDS = frozenset({"implicitThrowEvent"})
THROWING_EVENT_KINDS = frozenset({"endEvent", "intermediateThrowEvent", "implicitThrowEvent"})
GATEWAY_KINDS = frozenset({"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway",
                           "complexGateway"})
#: What coverage counts and a token can reach.
FLOW_NODE_KINDS = ACTIVITY_KINDS | EVENT_KINDS | GATEWAY_KINDS
#: Tasks that call a handler when they carry a binding.
BINDABLE_KINDS = frozenset({"serviceTask", "sendTask", "businessRuleTask"})
CONTAINER_KINDS = SUBPROCESS_KINDS | {"process"}
DATA_KINDS = frozenset({"dataObject", "dataObjectReference", "dataInput", "dataOutput", "dataStore",
                        "dataStoreReference"})
ARTIFACT_KINDS = frozenset({"group", "textAnnotation"})
POOL_KINDS = frozenset({"participant", "lane", "process"})
FLOW_KINDS = frozenset({"sequenceFlow", "messageFlow"})
EDGE_KINDS = FLOW_KINDS | {"association", "dataInputAssociation", "dataOutputAssociation"}

EVENT_DEFINITION_KINDS = {
    "messageEventDefinition": "message", "timerEventDefinition": "timer", "signalEventDefinition": "signal",
    "errorEventDefinition": "error", "escalationEventDefinition": "escalation",
    "conditionalEventDefinition": "conditional", "linkEventDefinition": "link",
    "compensateEventDefinition": "compensation", "terminateEventDefinition": "terminate",
    "cancelEventDefinition": "cancel",
}
GATEWAY_MARKERS = {"exclusiveGateway": "exclusive", "parallelGateway": "parallel", "inclusiveGateway": "inclusive",
                   "eventBasedGateway": "eventBased", "complexGateway": "complex"}
TASK_ICONS = {"serviceTask": "service", "userTask": "user", "scriptTask": "script", "sendTask": "send",
              "receiveTask": "receive", "businessRuleTask": "businessRule", "manualTask": "manual"}


def kind_words(kind: str) -> str:
    """`businessRuleTask` -> `Business rule task`."""
    out: list[str] = []
    for char in kind:
        if char.isupper() and out:
            out.append(" ")
            out.append(char.lower())
        else:
            out.append(char)
    text = "".join(out)
    return text[:1].upper() + text[1:]


def kind_phrase(kind: str) -> str:
    """`subProcess` -> `sub-process`, `serviceTask` -> `service task`: a kind inside a sentence."""
    return kind_words(kind or "element").lower().replace("sub process", "sub-process")
