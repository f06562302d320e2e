"""Rewrites for a simulation only: what cannot run as drawn becomes something that walks, and says what it assumed.

A real run refuses these constructs (normalize.py); a simulation of a diagram that is still being drawn walks
through them. Each rewrite returns (element id, what was assumed); the run lists those it reaches."""

from __future__ import annotations

from lxml import etree

from ..models import SIMULATED_MARKER
from .dialects import BPMN_NS, CAMUNDA_NS, NSMAP
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
    for process in root.iter(_b("process")):
        if process.get("isExecutable", "true") != "true":
            continue
        assumed += _listeners(process)
        assumed += _scripts(process)
        assumed += _conditions(process)
        assumed += _undecided_flows(process)
        assumed += _timers(process)
        assumed += _call_activities_without_target(process)
    return assumed


def _listeners(process: etree._Element) -> list[Assumption]:
    out = []
    for listener in list(process.iter(f"{{{CAMUNDA_NS}}}executionListener", f"{{{CAMUNDA_NS}}}taskListener")):
        owner = _owner_id(listener)
        event = listener.get("event") or "?"
        listener.getparent().remove(listener)
        out.append((owner, f"a Camunda {event} listener has no handler in a simulation; skipped"))
    return out


def _scripts(process: etree._Element) -> list[Assumption]:
    out = []
    for task in process.iter(_b("scriptTask")):
        if task.xpath("./bpmn:extensionElements/zeebe:script", namespaces=NSMAP):
            continue
        script_format = (task.get("scriptFormat") or "").strip()
        resource = task.get(f"{{{CAMUNDA_NS}}}resource")
        if script_format.lower() in PYTHON_SCRIPT_FORMATS and not resource:
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


def _conditions(process: etree._Element) -> list[Assumption]:
    out = []
    for condition in list(process.iter(_b("conditionExpression"), _b("completionCondition"), _b("loopCondition"))):
        language = (condition.get("language") or "").strip().lower().rstrip("/")
        if not language or language in ("python", "juel", "text/x-python") or \
                any(language == f.rstrip("/") for f in FEEL_LANGUAGES):
            continue
        text = " ".join("".join(condition.itertext()).split())
        owner = condition.getparent()
        what = f"a condition in {condition.get('language')} ({text[:60]}) cannot be evaluated"
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


def _call_activities_without_target(process: etree._Element) -> list[Assumption]:
    out = []
    for call in process.iter(_b("callActivity")):
        if call.get("calledElement") or call.xpath("./bpmn:extensionElements/zeebe:calledElement",
                                                   namespaces=NSMAP):
            continue
        what = "the call activity names no process; completed as a stub"
        stub_script(call, what)
        out.append((call.get("id", ""), what))
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
