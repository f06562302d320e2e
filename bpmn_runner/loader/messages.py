"""What a set of diagrams says about messages and start events, read from the XML as the modelers write it:

- Camunda 8: `<bpmn:message name="M"><bpmn:extensionElements><zeebe:subscription correlationKey="=orderId"/>`.
- SpiffArena (and plain BPMN): `bpmn:correlationProperty` with a `correlationPropertyRetrievalExpression` per
  message (`<bpmn:formalExpression>order_id</bpmn:formalExpression>`).
- Camunda 7: no key in the diagram; messages correlate by the instance's business key.

The result is a JSON-ready dict (the store keeps one per definition):
`{"messages": {name: {"key": expr|None, "properties": [[property id, expr], ...]}},
  "caught": [names caught anywhere], "starts": {process id: {"message": [...], "signal": [...], "timer": bool,
  "timers": [{"element_id", "kind" (timeCycle, timeDate, timeDuration), "text"}], "none": bool}}}`.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from ..namespaces import BPMN_NS, NSMAP, ZEEBE_NS
from .documents import Document

_NS = {**NSMAP, "bpmn": BPMN_NS, "zeebe": ZEEBE_NS}


def message_catalog(documents: list[Document]) -> dict[str, Any]:
    messages: dict[str, dict[str, Any]] = {}
    caught: set[str] = set()
    starts: dict[str, dict[str, Any]] = {}
    for doc in documents:
        if doc.kind != "bpmn":
            continue
        root = doc.root
        names = {m.get("id"): (m.get("name") or m.get("id")) for m in root.iter(f"{{{BPMN_NS}}}message")}
        signals = {s.get("id"): (s.get("name") or s.get("id")) for s in root.iter(f"{{{BPMN_NS}}}signal")}
        for message in root.iter(f"{{{BPMN_NS}}}message"):
            name = names[message.get("id")]
            entry = messages.setdefault(name, {"key": None, "properties": []})
            for sub in message.xpath("./bpmn:extensionElements/zeebe:subscription", namespaces=_NS):
                if sub.get("correlationKey"):
                    entry["key"] = sub.get("correlationKey").strip()
        for prop in root.iter(f"{{{BPMN_NS}}}correlationProperty"):
            for expr in prop.xpath("./bpmn:correlationPropertyRetrievalExpression", namespaces=_NS):
                name = names.get(expr.get("messageRef"))
                text = "".join(expr.xpath("./*[1]//text()")).strip()
                if name is not None and text:
                    messages.setdefault(name, {"key": None, "properties": []})["properties"].append(
                        [prop.get("id"), text])
        for definition in root.iter(f"{{{BPMN_NS}}}messageEventDefinition"):
            event = definition.getparent()
            local = etree.QName(event).localname
            if local in ("startEvent", "intermediateCatchEvent", "boundaryEvent"):
                name = names.get(definition.get("messageRef"))
                if name:
                    caught.add(name)
        for receive in root.iter(f"{{{BPMN_NS}}}receiveTask"):
            name = names.get(receive.get("messageRef"))
            if name:
                caught.add(name)
        for process in root.iter(f"{{{BPMN_NS}}}process"):
            entry = starts.setdefault(process.get("id", ""), {"message": [], "signal": [], "timer": False,
                                                              "timers": [], "none": False})
            for start in process.xpath("./bpmn:startEvent", namespaces=_NS):
                for ref in start.xpath("./bpmn:messageEventDefinition/@messageRef", namespaces=_NS):
                    if names.get(ref):
                        entry["message"].append(names[ref])
                for ref in start.xpath("./bpmn:signalEventDefinition/@signalRef", namespaces=_NS):
                    if signals.get(ref):
                        entry["signal"].append(signals[ref])
                for timer in start.xpath("./bpmn:timerEventDefinition", namespaces=_NS):
                    entry["timer"] = True
                    for when in timer.xpath("./bpmn:timeCycle|./bpmn:timeDate|./bpmn:timeDuration", namespaces=_NS):
                        entry["timers"].append({"element_id": start.get("id", ""), "kind": etree.QName(when).localname,
                                                "text": (when.text or "").strip()})
                if not start.xpath("./bpmn:*[contains(local-name(), 'EventDefinition')]", namespaces=_NS):
                    entry["none"] = True
    return {"messages": messages, "caught": sorted(caught), "starts": starts}
