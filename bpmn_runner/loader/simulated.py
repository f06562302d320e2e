"""Rewrites for a simulation only: what cannot run as drawn becomes something that walks, and says what it assumed.

A real run refuses these constructs (normalize.py); a simulation of a diagram that is still being drawn walks
through them. Each rewrite returns (element id, what was assumed); the run lists those it reaches."""

from __future__ import annotations

from lxml import etree

from ..models import JAVASCRIPT_FORMATS
from .dialects import CAMUNDA_NS, NSMAP, ZEEBE_NS
from .normalize import PYTHON_SCRIPT_FORMATS
from .simulated_conditions import conditional_flows_out_of_activities, conditions, undecided_flows
from .simulated_targets import (call_activities_without_target, called_elements, decision_ref,
                                rules_without_decision, stub_missing_targets, walk_called_processes)
from .simulated_tree import Assumption, bpmn, local_name, owner_id, stub_script

__all__ = ["Assumption", "called_elements", "decision_ref", "make_walkable", "stub_missing_targets", "stub_script",
           "walk_called_processes"]

_TIMER_CHILDREN = ("timeDate", "timeDuration", "timeCycle")


def make_walkable(root: etree._Element) -> list[Assumption]:
    """Rewrite the executable processes of one document so that a simulation can walk them."""
    assumed: list[Assumption] = []
    processes = list(root.iter(bpmn("process")))
    if processes and all(p.get("isExecutable", "true") != "true" for p in processes):
        # bpmn.io saves a drawing isExecutable="false" until someone ticks the box: a walk is what the analyst
        # wants from it, as the modeler's token simulation walks any diagram
        for process in processes:
            process.set("isExecutable", "true")
            assumed.append((process.get("id", ""), 'the process is marked isExecutable="false" (a drawing); walked '
                                                   'as if executable'))
    for process in processes:
        if process.get("isExecutable", "true") != "true":
            continue
        assumed += _complex_gateways(process)  # first: its flows are then decided as an inclusive gateway's
        assumed += _listeners(process)
        assumed += _scripts(process)
        assumed += conditions(process)
        assumed += conditional_flows_out_of_activities(process)
        assumed += undecided_flows(process)
        assumed += _timers(process)
        assumed += _conditional_events(process)
        assumed += _unmatched_links(process)
        assumed += call_activities_without_target(process)
        assumed += _loops(process)
        assumed += _data_associations(process, root)
        assumed += rules_without_decision(process)
        assumed += _compensation(process)
    assumed += _dangling_event_refs(root)
    return assumed


_EVENT_REFS = {"messageEventDefinition": ("messageRef", "message"), "signalEventDefinition": ("signalRef", "signal"),
               "errorEventDefinition": ("errorRef", "error"),
               "escalationEventDefinition": ("escalationRef", "escalation")}


def _dangling_event_refs(root: etree._Element) -> list[Assumption]:
    """An event naming a message, signal, error or escalation the file does not define gets one of that id."""
    out = []
    ids = {e.get("id") for e in root.iter() if isinstance(e.tag, str) and e.get("id")}
    for local, (attr, kind) in _EVENT_REFS.items():
        for definition in root.iter(bpmn(local)):
            ref = definition.get(attr)
            if not ref or ref in ids:
                continue
            root.insert(0, etree.Element(bpmn(kind), id=ref, name=ref))
            ids.add(ref)
            out.append((owner_id(definition.getparent()), f"the {kind} {ref!r} is not defined in the file; "
                                                            f"assumed one named {ref!r}"))
    return out


def _loops(process: etree._Element) -> list[Assumption]:
    out = []
    for loop in process.iter(bpmn("multiInstanceLoopCharacteristics")):
        has_input = loop.find(bpmn("loopDataInputRef")) is not None or loop.get(f"{{{CAMUNDA_NS}}}collection") or \
            loop.xpath("./bpmn:extensionElements/zeebe:loopCharacteristics", namespaces=NSMAP)
        cardinality = loop.find(bpmn("loopCardinality"))
        if has_input and cardinality is not None:
            loop.remove(cardinality)
        elif not has_input and (cardinality is None or not "".join(cardinality.itertext()).strip()):
            if cardinality is None:
                cardinality = etree.Element(bpmn("loopCardinality"))
                loop.insert(0, cardinality)
            cardinality.text = "1"
            out.append((owner_id(loop), "multi-instance with no collection or cardinality; one instance runs"))
    for loop in process.iter(bpmn("standardLoopCharacteristics")):
        if loop.get("loopMaximum") or "".join(c.text or "" for c in loop.findall(bpmn("loopCondition"))).strip():
            continue
        loop.set("loopMaximum", "1")
        out.append((owner_id(loop), "loop with no condition or maximum; it runs once"))
    return out


def _data_associations(process: etree._Element, root: etree._Element) -> list[Assumption]:
    """Data associations SpiffWorkflow cannot resolve (to anything but a data object or store reference) are
    documentation in a simulation."""
    objects = {o.get("id") for o in root.iter(bpmn("dataObject"))}
    resolvable = {r.get("id") for r in root.iter(bpmn("dataObjectReference")) if r.get("dataObjectRef") in objects}
    resolvable |= {r.get("id") for r in root.iter(bpmn("dataStoreReference")) if r.get("dataStoreRef")}
    out = []
    for tag, ref in (("dataInputAssociation", "sourceRef"), ("dataOutputAssociation", "targetRef")):
        for association in list(process.iter(bpmn(tag))):
            refs = [(r.text or "").strip() for r in association.findall(bpmn(ref))]
            if refs and all(r in resolvable for r in refs):
                continue
            owner = association.getparent()
            owner.remove(association)
            out.append((owner.get("id", ""), f"a data association to {', '.join(refs) or 'nothing'} cannot be "
                                             f"resolved; ignored"))
    return out


def _listeners(process: etree._Element) -> list[Assumption]:
    """Listeners run in a simulation as in a real run (one without a handler is skipped then); the kinds a real
    run refuses are dropped here."""
    out = []
    for listener in list(process.iter(f"{{{CAMUNDA_NS}}}executionListener", f"{{{CAMUNDA_NS}}}taskListener",
                                      f"{{{ZEEBE_NS}}}executionListener")):
        owner = owner_id(listener)
        event = (listener.get("event") or listener.get("eventType") or "").strip() or "?"
        scripts = listener.xpath("./camunda:script", namespaces=NSMAP)
        runs = owner != process.get("id") and event not in ("timeout", "update") and (
            any(listener.get(a) for a in ("class", "delegateExpression", "expression", "type")) or
            any(_runnable_camunda_script(script) for script in scripts))
        if runs:
            continue
        listener.getparent().remove(listener)
        why = f"a {event} listener in {scripts[0].get('scriptFormat')!r}" if scripts and \
            not _runnable_camunda_script(scripts[0]) else f"a {event} listener that cannot run here"
        out.append((owner, f"{why} is skipped in a simulation"))
    for script in list(process.iter(f"{{{CAMUNDA_NS}}}script")):
        parameter = script.getparent()
        if _runnable_camunda_script(script) or parameter is None or \
                etree.QName(parameter).localname not in ("inputParameter", "outputParameter"):
            continue
        parameter.remove(script)
        out.append((owner_id(parameter), f"the {script.get('scriptFormat')!r} script of parameter "
                                          f"{parameter.get('name')!r} cannot run in a simulation; assumed null"))
    return out


def _runnable_camunda_script(script: etree._Element) -> bool:
    """A camunda:script bpmn-runner can run: JavaScript written in the diagram (no external resource)."""
    return (script.get("scriptFormat") or "").strip().lower() in JAVASCRIPT_FORMATS and not script.get("resource")


def _scripts(process: etree._Element) -> list[Assumption]:
    out = []
    for task in process.iter(bpmn("scriptTask")):
        if task.xpath("./bpmn:extensionElements/zeebe:script", namespaces=NSMAP):
            continue
        script_format = (task.get("scriptFormat") or "").strip()
        resource = task.get(f"{{{CAMUNDA_NS}}}resource")
        if (script_format.lower() in PYTHON_SCRIPT_FORMATS or script_format.lower() in JAVASCRIPT_FORMATS) and \
                not resource:
            continue
        what = f"a script in {script_format!r} cannot run in a simulation; skipped" if not resource else \
            f"an external script resource ({resource}) cannot run in a simulation; skipped"
        stub_script(task, what)
        out.append((task.get("id", ""), what))
    return out


def _timers(process: etree._Element) -> list[Assumption]:
    out = []
    for definition in process.iter(bpmn("timerEventDefinition")):
        times = [c for c in definition if local_name(c) in _TIMER_CHILDREN]
        if times and any("".join(c.itertext()).strip() for c in times):
            continue
        for child in times:
            definition.remove(child)
        etree.SubElement(definition, bpmn("timeDuration")).text = "PT0S"
        out.append((owner_id(definition), "the timer has no time set; it fires at once"))
    return out


def _conditional_events(process: etree._Element) -> list[Assumption]:
    """A conditional event without a condition: a boundary event never fires, any other fires at once."""
    out = []
    for definition in process.iter(bpmn("conditionalEventDefinition")):
        conditions = definition.findall(bpmn("condition"))
        if conditions and any("".join(c.itertext()).strip() for c in conditions):
            continue
        for condition in conditions:
            definition.remove(condition)
        event = definition.getparent()
        boundary = local_name(event) == "boundaryEvent"
        etree.SubElement(definition, bpmn("condition")).text = "False" if boundary else "True"
        out.append((owner_id(event), "the conditional event has no condition; it " +
                    ("never fires" if boundary else "fires at once")))
    return out


def _link_name(event: etree._Element) -> str:
    definition = event.find(bpmn("linkEventDefinition"))
    return ((definition.get("name") if definition is not None else "") or event.get("name") or "").strip()


def _unmatched_links(process: etree._Element) -> list[Assumption]:
    """A link throw with no link catch of its name in its scope ends its path there."""
    out = []
    for throw in list(process.iter(bpmn("intermediateThrowEvent"))):
        definition = throw.find(bpmn("linkEventDefinition"))
        if definition is None:
            continue
        scope = throw.getparent()
        catches = {_link_name(c) for c in scope.findall(bpmn("intermediateCatchEvent"))
                   if c.find(bpmn("linkEventDefinition")) is not None}
        if _link_name(throw) not in catches:
            throw.remove(definition)
            out.append((throw.get("id", ""), f"no link catch event is named {_link_name(throw)!r}; the path ends "
                                             f"here"))
    return out


def _complex_gateways(process: etree._Element) -> list[Assumption]:
    """A complex gateway (its activation condition) is walked as an inclusive gateway: each flow's condition decides,
    undecidable ones as at any gateway; a real run still refuses it."""
    out = []
    for gateway in list(process.iter(bpmn("complexGateway"))):
        gateway.tag = bpmn("inclusiveGateway")
        for condition in gateway.findall(bpmn("activationCondition")):
            gateway.remove(condition)
        out.append((gateway.get("id", ""), "a complex gateway is walked as an inclusive gateway (its activation "
                                           "condition is not evaluated)"))
    return out


def _compensation(process: etree._Element) -> list[Assumption]:
    """Compensation runs as drawn; only what a real run refuses is rewritten: a compensation boundary event without
    exactly one associated handler marked isForCompensation is dropped, a throw whose activityRef names nothing
    becomes a plain event."""
    out = []
    root = process.getroottree().getroot()
    ids = {element.get("id") for element in root.iter() if isinstance(element.tag, str) and element.get("id")}
    for definition in list(process.iter(bpmn("compensateEventDefinition"))):
        event = definition.getparent()
        if local_name(event) == "boundaryEvent":
            if len(_compensation_handlers(root, event.get("id", ""))) != 1:
                event.getparent().remove(event)
                out.append((event.get("attachedToRef", ""), "its compensation boundary event has no single handler "
                                                            "marked isForCompensation; it is not compensated"))
        elif definition.get("activityRef") and definition.get("activityRef") not in ids:
            event.remove(definition)
            out.append((event.get("id", ""), "its compensation activityRef names nothing; the event passes through"))
    return out


def _compensation_handlers(root: etree._Element, boundary_id: str) -> list[etree._Element]:
    """The activities marked isForCompensation that an association links to a boundary event (either direction)."""
    found = []
    for association in root.iter(bpmn("association")):
        ends = (association.get("sourceRef"), association.get("targetRef"))
        if boundary_id not in ends:
            continue
        other = ends[1] if ends[0] == boundary_id else ends[0]
        found += [n for n in root.xpath("//*[@id=$i]", i=other or "") if n.get("isForCompensation") == "true"]
    return found
