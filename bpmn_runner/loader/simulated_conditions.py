"""Simulation rewrites of conditions: literal or unparseable ones, undecided gateway flows, conditional flows out of
activities."""

from __future__ import annotations

from lxml import etree

from .. import expressions
from ..errors import ExpressionError
from ..models import JAVASCRIPT_FORMATS, JAVASCRIPT_MARKER, SIMULATED_MARKER
from .dialects import document_dialect
from .normalize import FEEL_LANGUAGES
from .simulated_tree import Assumption, bpmn, local_name, owner_id

_DECIDING = ("exclusiveGateway", "inclusiveGateway")


def _camunda7_literal(condition: etree._Element, camunda7: bool) -> bool:
    """A Camunda 7 condition without ${...}: Camunda reads it as a literal string, which a real run refuses."""
    text = "".join(condition.itertext()).strip()
    return camunda7 and local_name(condition) != "loopCondition" and not condition.get("language") and bool(text) \
        and "${" not in text and "#{" not in text


def conditions(process: etree._Element) -> list[Assumption]:
    out = []
    camunda7 = document_dialect(process.getroottree().getroot()) == "camunda7"
    for condition in list(process.iter(bpmn("conditionExpression"), bpmn("completionCondition"), bpmn("loopCondition"))):
        if _camunda7_literal(condition, camunda7):
            text = " ".join("".join(condition.itertext()).split())
            if local_name(condition) == "conditionExpression":
                condition.text = SIMULATED_MARKER + f"condition {text[:60]!r} is not a Camunda 7 expression " \
                                                    f"(write it as ${{...}})"
            else:
                owner = condition.getparent()
                owner.remove(condition)
                out.append((owner_id(owner), f"completion condition {text[:60]!r} is not a Camunda 7 expression; "
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
        if local_name(condition) == "conditionExpression":
            condition.attrib.pop("language", None)
            for child in list(condition):
                condition.remove(child)
            condition.text = SIMULATED_MARKER + what
            continue
        if local_name(condition) == "completionCondition":
            owner.remove(condition)
            out.append((owner_id(owner), f"{what}; every instance runs"))
        else:
            condition.attrib.pop("language", None)
            condition.text = "False"
            out.append((owner_id(owner), f"{what}; the loop runs once"))
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
    return any("".join(c.itertext()).strip() for c in flow.findall(bpmn("conditionExpression")))


def undecided_flows(process: etree._Element) -> list[Assumption]:
    """A flow out of a deciding gateway with no condition (and not the default) is undecidable, not an error."""
    flows_by_source: dict[str, list[etree._Element]] = {}
    for flow in process.iter(bpmn("sequenceFlow")):
        flows_by_source.setdefault(flow.get("sourceRef", ""), []).append(flow)
    for gateway in process.iter(*(bpmn(t) for t in _DECIDING)):
        outgoing = flows_by_source.get(gateway.get("id", ""), [])
        if len(outgoing) < 2:
            continue
        for flow in outgoing:
            if flow.get("id") == gateway.get("default") or _has_condition(flow):
                continue
            for empty in flow.findall(bpmn("conditionExpression")):
                flow.remove(empty)
            condition = etree.SubElement(flow, bpmn("conditionExpression"))
            condition.text = SIMULATED_MARKER + f"flow {flow.get('name') or flow.get('id')!r} has no condition"
    return []  # the gateway lists the assumption when it decides


_NOT_ACTIVITIES = {"exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway"}


def conditional_flows_out_of_activities(process: etree._Element) -> list[Assumption]:
    """Conditional flows out of an activity or event (BPMN 10.3: each true one gets a token, else the default)
    become an inclusive split right after it."""
    out = []
    for container in [process, *process.iter(bpmn("subProcess"), bpmn("transaction"))]:
        flows = [f for f in container if local_name(f) == "sequenceFlow"]
        by_source: dict[str, list[etree._Element]] = {}
        for flow in flows:
            by_source.setdefault(flow.get("sourceRef", ""), []).append(flow)
        for node in list(container):
            if not isinstance(node.tag, str) or local_name(node) in _NOT_ACTIVITIES or not node.get("id"):
                continue
            outgoing = by_source.get(node.get("id", ""), [])
            if not any(_has_condition(f) for f in outgoing) and not (node.get("default") and len(outgoing) > 1):
                continue
            split_id = f"{node.get('id')}__conditional_split"
            split = etree.Element(bpmn("inclusiveGateway"), id=split_id)
            if node.get("default"):
                split.set("default", node.attrib.pop("default"))
            container.insert(container.index(node) + 1, split)
            for flow in outgoing:
                flow.set("sourceRef", split_id)
            container.append(etree.Element(bpmn("sequenceFlow"), id=f"{split_id}_in", sourceRef=node.get("id", ""),
                                           targetRef=split_id))
            out.append((node.get("id", ""), "its conditional outgoing flows are walked as an inclusive split"))
    return out
