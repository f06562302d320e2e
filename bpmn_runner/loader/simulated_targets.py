"""Simulation rewrites of what a task calls: processes and decisions that are missing or not executable."""

from __future__ import annotations

from lxml import etree

from .dialects import CAMUNDA_NS, NSMAP, read_binding
from .simulated_tree import Assumption, bpmn, stub_script

def rules_without_decision(process: etree._Element) -> list[Assumption]:
    out = []
    for task in list(process.iter(bpmn("businessRuleTask"))):
        if decision_ref(task) is None and read_binding(task) is None:
            what = "the business rule task names no decision or handler; completed as a stub"
            stub_script(task, what)
            out.append((task.get("id", ""), what))
    return out


def walk_called_processes(root: etree._Element, called: dict[str, str]) -> list[Assumption]:
    """A process marked not executable that a call activity calls is walked anyway (called: process id -> the
    call activity's id)."""
    out = []
    for process in root.iter(bpmn("process")):
        if process.get("isExecutable") == "false" and process.get("id") in called:
            process.set("isExecutable", "true")
            out.append((called[process.get("id", "")], f"process {process.get('id')!r} is marked not executable; "
                                                       f"walked it anyway"))
    return out


def called_elements(root: etree._Element) -> dict[str, str]:
    return {call.get("calledElement", ""): call.get("id", "") for call in root.iter(bpmn("callActivity"))
            if call.get("calledElement")}


def call_activities_without_target(process: etree._Element) -> list[Assumption]:
    out = []
    for call in list(process.iter(bpmn("callActivity"))):
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
    for call in list(root.iter(bpmn("callActivity"))):
        if call.get("calledElement") in processes:
            what = f"process {call.get('calledElement')!r} was not found; completed as a stub"
            stub_script(call, what)
            out.append((call.get("id", ""), what))
    for task in list(root.iter(bpmn("businessRuleTask"))):
        ref = decision_ref(task)
        if ref in decisions:
            what = f"decision {ref!r} was not found; completed as a stub"
            for extension in task.xpath("./bpmn:extensionElements/spiffworkflow:calledDecisionId | "
                                        "./bpmn:extensionElements/zeebe:calledDecision", namespaces=NSMAP):
                extension.getparent().remove(extension)
            stub_script(task, what)
            out.append((task.get("id", ""), what))
    return out
