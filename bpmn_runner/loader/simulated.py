"""Rewrites for a simulation only: what cannot run as drawn becomes something that walks, and says what it assumed.

A real run refuses these constructs (normalize.py); a simulation of a diagram that is still being drawn walks
through them. Each rewrite returns (element id, what was assumed); the run lists those it reaches."""

from __future__ import annotations

from lxml import etree

from .. import expressions
from ..errors import ExpressionError
from ..models import JAVASCRIPT_FORMATS, JAVASCRIPT_MARKER, SIMULATED_MARKER
from .dialects import BPMN_NS, CAMUNDA_NS, NSMAP, ZEEBE_NS, document_dialect, read_binding
from .normalize import FEEL_LANGUAGES, PYTHON_SCRIPT_FORMATS

Assumption = tuple[str, str]
_DECIDING = ("exclusiveGateway", "inclusiveGateway")
_TIMER_CHILDREN = ("timeDate", "timeDuration", "timeCycle")


def _b(tag: str) -> str:
    return f"{{{BPMN_NS}}}{tag}"


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _owner_id(element: etree._Element) -> str:
    node = element
    while node is not None and not node.get("id"):
        node = node.getparent()
    return node.get("id", "") if node is not None else ""


def make_walkable(root: etree._Element) -> list[Assumption]:
    """Rewrite the executable processes of one document so that a simulation can walk them."""
    assumed: list[Assumption] = []
    processes = list(root.iter(_b("process")))
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
        assumed += _conditions(process)
        assumed += _conditional_flows_out_of_activities(process)
        assumed += _undecided_flows(process)
        assumed += _timers(process)
        assumed += _conditional_events(process)
        assumed += _unmatched_links(process)
        assumed += _call_activities_without_target(process)
        assumed += _loops(process)
        assumed += _data_associations(process, root)
        assumed += _rules_without_decision(process)
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
        for definition in root.iter(_b(local)):
            ref = definition.get(attr)
            if not ref or ref in ids:
                continue
            root.insert(0, etree.Element(_b(kind), id=ref, name=ref))
            ids.add(ref)
            out.append((_owner_id(definition.getparent()), f"the {kind} {ref!r} is not defined in the file; "
                                                            f"assumed one named {ref!r}"))
    return out


def _rules_without_decision(process: etree._Element) -> list[Assumption]:
    out = []
    for task in list(process.iter(_b("businessRuleTask"))):
        if decision_ref(task) is None and read_binding(task) is None:
            what = "the business rule task names no decision or handler; completed as a stub"
            stub_script(task, what)
            out.append((task.get("id", ""), what))
    return out


def walk_called_processes(root: etree._Element, called: dict[str, str]) -> list[Assumption]:
    """A process marked not executable that a call activity calls is walked anyway (called: process id -> the
    call activity's id)."""
    out = []
    for process in root.iter(_b("process")):
        if process.get("isExecutable") == "false" and process.get("id") in called:
            process.set("isExecutable", "true")
            out.append((called[process.get("id", "")], f"process {process.get('id')!r} is marked not executable; "
                                                       f"walked it anyway"))
    return out


def called_elements(root: etree._Element) -> dict[str, str]:
    return {call.get("calledElement", ""): call.get("id", "") for call in root.iter(_b("callActivity"))
            if call.get("calledElement")}


def _loops(process: etree._Element) -> list[Assumption]:
    out = []
    for loop in process.iter(_b("multiInstanceLoopCharacteristics")):
        has_input = loop.find(_b("loopDataInputRef")) is not None or loop.get(f"{{{CAMUNDA_NS}}}collection") or \
            loop.xpath("./bpmn:extensionElements/zeebe:loopCharacteristics", namespaces=NSMAP)
        cardinality = loop.find(_b("loopCardinality"))
        if has_input and cardinality is not None:
            loop.remove(cardinality)
        elif not has_input and (cardinality is None or not "".join(cardinality.itertext()).strip()):
            if cardinality is None:
                cardinality = etree.Element(_b("loopCardinality"))
                loop.insert(0, cardinality)
            cardinality.text = "1"
            out.append((_owner_id(loop), "multi-instance with no collection or cardinality; one instance runs"))
    for loop in process.iter(_b("standardLoopCharacteristics")):
        if loop.get("loopMaximum") or "".join(c.text or "" for c in loop.findall(_b("loopCondition"))).strip():
            continue
        loop.set("loopMaximum", "1")
        out.append((_owner_id(loop), "loop with no condition or maximum; it runs once"))
    return out


def _data_associations(process: etree._Element, root: etree._Element) -> list[Assumption]:
    """Data associations SpiffWorkflow cannot resolve (to anything but a data object or store reference) are
    documentation in a simulation."""
    objects = {o.get("id") for o in root.iter(_b("dataObject"))}
    resolvable = {r.get("id") for r in root.iter(_b("dataObjectReference")) if r.get("dataObjectRef") in objects}
    resolvable |= {r.get("id") for r in root.iter(_b("dataStoreReference")) if r.get("dataStoreRef")}
    out = []
    for tag, ref in (("dataInputAssociation", "sourceRef"), ("dataOutputAssociation", "targetRef")):
        for association in list(process.iter(_b(tag))):
            refs = [(r.text or "").strip() for r in association.findall(_b(ref))]
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
        owner = _owner_id(listener)
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
        out.append((_owner_id(parameter), f"the {script.get('scriptFormat')!r} script of parameter "
                                          f"{parameter.get('name')!r} cannot run in a simulation; assumed null"))
    return out


def _runnable_camunda_script(script: etree._Element) -> bool:
    """A camunda:script bpmn-runner can run: JavaScript written in the diagram (no external resource)."""
    return (script.get("scriptFormat") or "").strip().lower() in JAVASCRIPT_FORMATS and not script.get("resource")


def _scripts(process: etree._Element) -> list[Assumption]:
    out = []
    for task in process.iter(_b("scriptTask")):
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


def stub_script(element: etree._Element, what: str) -> None:
    """Make an element a Python script task whose script only records what the simulation assumed."""
    element.tag = _b("scriptTask")
    for attr in ("scriptFormat", f"{{{CAMUNDA_NS}}}resource", "calledElement", f"{{{CAMUNDA_NS}}}decisionRef"):
        element.attrib.pop(attr, None)
    script = element.find(_b("script"))
    if script is None:
        script = etree.SubElement(element, _b("script"))
    script.text = SIMULATED_MARKER + what


def _camunda7_literal(condition: etree._Element, camunda7: bool) -> bool:
    """A Camunda 7 condition without ${...}: Camunda reads it as a literal string, which a real run refuses."""
    text = "".join(condition.itertext()).strip()
    return camunda7 and _local(condition) != "loopCondition" and not condition.get("language") and bool(text) \
        and "${" not in text and "#{" not in text


def _conditions(process: etree._Element) -> list[Assumption]:
    out = []
    camunda7 = document_dialect(process.getroottree().getroot()) == "camunda7"
    for condition in list(process.iter(_b("conditionExpression"), _b("completionCondition"), _b("loopCondition"))):
        if _camunda7_literal(condition, camunda7):
            text = " ".join("".join(condition.itertext()).split())
            if _local(condition) == "conditionExpression":
                condition.text = SIMULATED_MARKER + f"condition {text[:60]!r} is not a Camunda 7 expression " \
                                                    f"(write it as ${{...}})"
            else:
                owner = condition.getparent()
                owner.remove(condition)
                out.append((_owner_id(owner), f"completion condition {text[:60]!r} is not a Camunda 7 expression; "
                                              f"every instance runs"))
            continue
        language = (condition.get("language") or "").strip().lower().rstrip("/")
        text = " ".join("".join(condition.itertext()).split())
        if not language or language in ("python", "juel", "text/x-python") or language in JAVASCRIPT_FORMATS or \
                any(language == f.rstrip("/") for f in FEEL_LANGUAGES):
            problem = _syntax_problem(condition)
            if problem is None:
                continue
            what = f"the condition {text[:60]!r} cannot be parsed ({problem})"
        else:
            what = f"a condition in {condition.get('language')} ({text[:60]}) cannot be evaluated"
        owner = condition.getparent()
        if _local(condition) == "conditionExpression":
            condition.attrib.pop("language", None)
            for child in list(condition):
                condition.remove(child)
            condition.text = SIMULATED_MARKER + what
            continue
        if _local(condition) == "completionCondition":
            owner.remove(condition)
            out.append((_owner_id(owner), f"{what}; every instance runs"))
        else:
            condition.attrib.pop("language", None)
            condition.text = "False"
            out.append((_owner_id(owner), f"{what}; the loop runs once"))
    return out


def _syntax_problem(condition: etree._Element) -> str | None:
    """Why a condition in a language we evaluate cannot parse (a real run refuses it at load), or None."""
    text = "".join(condition.itertext())
    if not text.strip() or text.startswith(SIMULATED_MARKER):
        return None
    try:
        expressions.check_syntax(text if text.startswith(JAVASCRIPT_MARKER) else text.strip())
    except ExpressionError as exc:
        return exc.message
    return None


def _has_condition(flow: etree._Element) -> bool:
    return any("".join(c.itertext()).strip() for c in flow.findall(_b("conditionExpression")))


def _undecided_flows(process: etree._Element) -> list[Assumption]:
    """A flow out of a deciding gateway with no condition (and not the default) is undecidable, not an error."""
    flows_by_source: dict[str, list[etree._Element]] = {}
    for flow in process.iter(_b("sequenceFlow")):
        flows_by_source.setdefault(flow.get("sourceRef", ""), []).append(flow)
    for gateway in process.iter(*(_b(t) for t in _DECIDING)):
        outgoing = flows_by_source.get(gateway.get("id", ""), [])
        if len(outgoing) < 2:
            continue
        for flow in outgoing:
            if flow.get("id") == gateway.get("default") or _has_condition(flow):
                continue
            for empty in flow.findall(_b("conditionExpression")):
                flow.remove(empty)
            condition = etree.SubElement(flow, _b("conditionExpression"))
            condition.text = SIMULATED_MARKER + f"flow {flow.get('name') or flow.get('id')!r} has no condition"
    return []  # the gateway lists the assumption when it decides


def _timers(process: etree._Element) -> list[Assumption]:
    out = []
    for definition in process.iter(_b("timerEventDefinition")):
        times = [c for c in definition if _local(c) in _TIMER_CHILDREN]
        if times and any("".join(c.itertext()).strip() for c in times):
            continue
        for child in times:
            definition.remove(child)
        etree.SubElement(definition, _b("timeDuration")).text = "PT0S"
        out.append((_owner_id(definition), "the timer has no time set; it fires at once"))
    return out


def _conditional_events(process: etree._Element) -> list[Assumption]:
    """A conditional event without a condition: a boundary event never fires, any other fires at once."""
    out = []
    for definition in process.iter(_b("conditionalEventDefinition")):
        conditions = definition.findall(_b("condition"))
        if conditions and any("".join(c.itertext()).strip() for c in conditions):
            continue
        for condition in conditions:
            definition.remove(condition)
        event = definition.getparent()
        boundary = _local(event) == "boundaryEvent"
        etree.SubElement(definition, _b("condition")).text = "False" if boundary else "True"
        out.append((_owner_id(event), "the conditional event has no condition; it " +
                    ("never fires" if boundary else "fires at once")))
    return out


def _link_name(event: etree._Element) -> str:
    definition = event.find(_b("linkEventDefinition"))
    return ((definition.get("name") if definition is not None else "") or event.get("name") or "").strip()


def _unmatched_links(process: etree._Element) -> list[Assumption]:
    """A link throw with no link catch of its name in its scope ends its path there."""
    out = []
    for throw in list(process.iter(_b("intermediateThrowEvent"))):
        definition = throw.find(_b("linkEventDefinition"))
        if definition is None:
            continue
        scope = throw.getparent()
        catches = {_link_name(c) for c in scope.findall(_b("intermediateCatchEvent"))
                   if c.find(_b("linkEventDefinition")) is not None}
        if _link_name(throw) not in catches:
            throw.remove(definition)
            out.append((throw.get("id", ""), f"no link catch event is named {_link_name(throw)!r}; the path ends "
                                             f"here"))
    return out


def _call_activities_without_target(process: etree._Element) -> list[Assumption]:
    out = []
    for call in list(process.iter(_b("callActivity"))):
        zeebe = call.xpath("./bpmn:extensionElements/zeebe:calledElement/@processId", namespaces=NSMAP)
        computed = str(zeebe[0]).strip() if zeebe else ""
        if call.get("calledElement") or (computed and not _computed_id(computed)):
            continue
        what = (f"the called process id is computed ({computed}); completed as a stub" if computed else
                "the call activity names no process; completed as a stub")
        stub_script(call, what)
        out.append((call.get("id", ""), what))
    return out


def _computed_id(text: str) -> bool:
    """A Camunda 8 processId given by a FEEL expression other than a string literal (`=subId`)."""
    return text.startswith("=") and not text[1:].strip().startswith('"')


def _complex_gateways(process: etree._Element) -> list[Assumption]:
    """A complex gateway (its activation condition) is walked as an inclusive gateway: each flow's condition decides,
    undecidable ones as at any gateway; a real run still refuses it."""
    out = []
    for gateway in list(process.iter(_b("complexGateway"))):
        gateway.tag = _b("inclusiveGateway")
        for condition in gateway.findall(_b("activationCondition")):
            gateway.remove(condition)
        out.append((gateway.get("id", ""), "a complex gateway is walked as an inclusive gateway (its activation "
                                           "condition is not evaluated)"))
    return out


def decision_ref(element: etree._Element) -> str | None:
    """The decision a business rule task names, in any dialect."""
    ref = element.get(f"{{{CAMUNDA_NS}}}decisionRef")
    if ref:
        return ref
    zeebe = element.xpath("./bpmn:extensionElements/zeebe:calledDecision/@decisionId", namespaces=NSMAP)
    if zeebe:
        return str(zeebe[0])
    spiff = element.xpath("./bpmn:extensionElements/spiffworkflow:calledDecisionId", namespaces=NSMAP)
    return (spiff[0].text or "").strip() or None if spiff else None


def stub_missing_targets(root: etree._Element, processes: set[str], decisions: set[str]) -> list[Assumption]:
    """Call activities and business rule tasks whose process or decision is nowhere to be found become stubs."""
    out = []
    for call in list(root.iter(_b("callActivity"))):
        if call.get("calledElement") in processes:
            what = f"process {call.get('calledElement')!r} was not found; completed as a stub"
            stub_script(call, what)
            out.append((call.get("id", ""), what))
    for task in list(root.iter(_b("businessRuleTask"))):
        ref = decision_ref(task)
        if ref in decisions:
            what = f"decision {ref!r} was not found; completed as a stub"
            for extension in task.xpath("./bpmn:extensionElements/spiffworkflow:calledDecisionId | "
                                        "./bpmn:extensionElements/zeebe:calledDecision", namespaces=NSMAP):
                extension.getparent().remove(extension)
            stub_script(task, what)
            out.append((task.get("id", ""), what))
    return out


def _compensation(process: etree._Element) -> list[Assumption]:
    """Compensation runs as drawn; only what a real run refuses is rewritten: a compensation boundary event without
    exactly one associated handler marked isForCompensation is dropped, a throw whose activityRef names nothing
    becomes a plain event."""
    out = []
    root = process.getroottree().getroot()
    ids = {element.get("id") for element in root.iter() if isinstance(element.tag, str) and element.get("id")}
    for definition in list(process.iter(_b("compensateEventDefinition"))):
        event = definition.getparent()
        if _local(event) == "boundaryEvent":
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
    for association in root.iter(_b("association")):
        ends = (association.get("sourceRef"), association.get("targetRef"))
        if boundary_id not in ends:
            continue
        other = ends[1] if ends[0] == boundary_id else ends[0]
        found += [n for n in root.xpath("//*[@id=$i]", i=other or "") if n.get("isForCompensation") == "true"]
    return found


_NOT_ACTIVITIES = {"exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway"}


def _conditional_flows_out_of_activities(process: etree._Element) -> list[Assumption]:
    """Conditional flows out of an activity or event (BPMN 10.3: each true one gets a token, else the default)
    become an inclusive split right after it."""
    out = []
    for container in [process, *process.iter(_b("subProcess"), _b("transaction"))]:
        flows = [f for f in container if _local(f) == "sequenceFlow"]
        by_source: dict[str, list[etree._Element]] = {}
        for flow in flows:
            by_source.setdefault(flow.get("sourceRef", ""), []).append(flow)
        for node in list(container):
            if not isinstance(node.tag, str) or _local(node) in _NOT_ACTIVITIES or not node.get("id"):
                continue
            outgoing = by_source.get(node.get("id", ""), [])
            if not any(_has_condition(f) for f in outgoing) and not (node.get("default") and len(outgoing) > 1):
                continue
            split_id = f"{node.get('id')}__conditional_split"
            split = etree.Element(_b("inclusiveGateway"), id=split_id)
            if node.get("default"):
                split.set("default", node.attrib.pop("default"))
            container.insert(container.index(node) + 1, split)
            for flow in outgoing:
                flow.set("sourceRef", split_id)
            container.append(etree.Element(_b("sequenceFlow"), id=f"{split_id}_in", sourceRef=node.get("id", ""),
                                           targetRef=split_id))
            out.append((node.get("id", ""), "its conditional outgoing flows are walked as an inclusive split"))
    return out
