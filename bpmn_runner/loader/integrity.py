"""Ids and references that do not resolve: duplicated ids and dangling flows in an executable process, and the
call activity or business rule task that needs a process or decision that is not loaded."""

from __future__ import annotations

from typing import Container

from lxml import etree

from ..errors import DefinitionError, UnknownProcessError
from ..namespaces import BPMN_NS


_BPMN_ANY = f"{{{BPMN_NS}}}*"


def check_ids(root: etree._Element, name: str, ids: Container[str]) -> None:
    """SpiffWorkflow runs a duplicated id as whichever element came last and drops a flow whose source is missing:
    either way it would run something other than what was drawn, so an executable process must not have them
    (`ids`: every id the file defines)."""
    for process in root.iter(f"{{{BPMN_NS}}}process"):
        if process.get("isExecutable", "true") != "true":
            continue
        if not (process.get("id") or "").strip():
            raise DefinitionError("an executable process has no id; give it one in the modeler (the id is what "
                                  "--process and call activities name)", file=name, line=process.sourceline or 1)
        first: dict[str, int] = {}
        found = [i for i in (e.get("id") for e in process.iter(_BPMN_ANY)) if i]  # a superset of what the walk sees
        stack = [process] if len(set(found)) < len(found) else []  # no id twice there: none twice in the walk
        while stack:
            element = stack.pop()
            element_id = element.get("id")
            if element_id and element_id in first:
                raise DefinitionError(f"id {element_id!r} is used twice (first at line {first[element_id]}); give "
                                      f"each element its own id", file=name, line=element.sourceline or 1,
                                      element_id=element_id)
            if element_id:
                first[element_id] = element.sourceline or 1
            stack.extend(c for c in reversed(element) if isinstance(c.tag, str) and c.tag.startswith(f"{{{BPMN_NS}}}")
                         and etree.QName(c).localname != "extensionElements")  # vendors reuse ids in extensions
        for flow in process.iter(f"{{{BPMN_NS}}}sequenceFlow"):
            for attr in ("sourceRef", "targetRef"):
                if flow.get(attr, "") not in ids:
                    raise DefinitionError(f"sequence flow {flow.get('id')!r}: {attr} {flow.get(attr, '')!r} names no "
                                          f"element; connect it in the modeler", file=name,
                                          line=flow.sourceline or 1, element_id=flow.get("id"))


def missing_error(diagrams: list[tuple[str, etree._Element]], processes: set[str],
                  decisions: set[str]) -> UnknownProcessError:
    """The error naming the first call activity or business rule task that needs what is not loaded (diagrams: file
    name and root of each BPMN document)."""
    for name, root in diagrams:
        for element in root.iter(f"{{{BPMN_NS}}}callActivity"):
            if element.get("calledElement") in processes:
                return UnknownProcessError(
                    f"call activity {element.get('id')!r} calls process {element.get('calledElement')!r}, which is "
                    f"not in the loaded files; load the file that defines it", file=name,
                    line=element.sourceline, element_id=element.get("id"))
        for element in root.iter(f"{{{BPMN_NS}}}businessRuleTask"):
            for decision in decisions:
                if decision in etree.tostring(element, encoding="unicode"):
                    return UnknownProcessError(
                        f"business rule task {element.get('id')!r} needs decision {decision!r}, which is not in "
                        f"the loaded files; load the .dmn file that defines it", file=name,
                        line=element.sourceline, element_id=element.get("id"))
    names = ", ".join(sorted(processes | decisions))
    return UnknownProcessError(f"missing called processes or decisions: {names}")
