"""Rewrite modeler dialect constructs into the standard BPMN SpiffWorkflow reads, and refuse what cannot run.

Works on our in-memory tree only (the user's file is never changed); elements keep their source lines."""

from __future__ import annotations

import re

from lxml import etree

from ..errors import DefinitionError, UnsupportedElementError
from ..models import (FEEL_SCRIPT_MARKER, JAVASCRIPT_FORMATS, JAVASCRIPT_MARKER, JAVASCRIPT_TASK_MARKER,
                      SIMULATED_MARKER)
from ..namespaces import BPMN_NS, CAMUNDA_NS, NSMAP, ZEEBE_NS
from ..timing import iso_problem
from .dialects import document_dialect

PYTHON_SCRIPT_FORMATS = {"", "python", "python3", "py", "text/x-python", "text/python", "application/x-python"}
FEEL_LANGUAGES = ("feel", "https://www.omg.org/spec/dmn/20191111/feel/", "http://www.omg.org/spec/feel/20140401")
_SIMPLE_PATH = re.compile(r"^[A-Za-z_][\w]*$")


def _b(tag: str) -> str:
    return f"{{{BPMN_NS}}}{tag}"


def _unwrap(expression: str | None) -> str | None:
    """`=items`, `${items}` or `items` -> `items` when it names one variable; else None."""
    text = (expression or "").strip()
    if text.startswith("="):
        text = text[1:].strip()
    elif text.startswith(("${", "#{")) and text.endswith("}"):
        text = text[2:-1].strip()
    return text if _SIMPLE_PATH.match(text) else None


def _refuse(element: etree._Element, name: str, message: str) -> UnsupportedElementError:
    return UnsupportedElementError(f"{etree.QName(element).localname} {element.get('id')!r}: {message}",
                                   file=name, line=element.sourceline or 1, element_id=element.get("id"))


def normalize(root: etree._Element, name: str, dialect: str | None = None) -> None:
    """Apply every rewrite and check to the executable processes of one BPMN document (`dialect`: the document's,
    when the caller knows it already)."""
    for definition in root.iter(_b("signal"), _b("message")):
        if definition.get("id") and not definition.get("name"):
            definition.set("name", definition.get("id", ""))  # a name is optional in BPMN; its id names it then
    camunda7 = (dialect or document_dialect(root)) == "camunda7"
    for process in root.iter(_b("process")):
        if process.get("isExecutable", "true") != "true":
            continue
        _check_listeners(process, name)
        _scripts(process, name)
        _parameter_scripts(process, name)
        _conditions(process, name, camunda7=camunda7)
        _call_activities(process, name)
        _multi_instance(process, name)


def collect_refusals(root: etree._Element, name: str, limit: int = 200) -> list[UnsupportedElementError]:
    """Every refusal `normalize` would raise, not only the first: on a copy, each refused element is taken out and
    the checks run again (for `validate`, which reports every blocker of a file)."""
    copy = etree.fromstring(etree.tostring(root, encoding="utf-8"))  # ASCII would garble non-ASCII names
    for original, copied in zip(root.iter(), copy.iter()):
        copied.sourceline = original.sourceline
    found: list[UnsupportedElementError] = []
    for _ in range(limit):
        try:
            normalize(copy, name)
            break
        except DefinitionError as exc:  # syntax problems are reported by validate's expression rules
            if isinstance(exc, UnsupportedElementError):
                found.append(exc)
            culprit = copy.xpath("//*[@id=$i]", i=exc.element_id) if exc.element_id else []
            if not culprit or culprit[0].getparent() is None:
                break
            culprit[0].getparent().remove(culprit[0])
    return found


def _check_listeners(process: etree._Element, name: str) -> None:
    """Listeners run (see _spiff/listeners.py); refuse the kinds that do not, naming the element."""
    for listener in process.iter(f"{{{CAMUNDA_NS}}}executionListener", f"{{{CAMUNDA_NS}}}taskListener",
                                 f"{{{ZEEBE_NS}}}executionListener"):
        owner = next((a for a in listener.iterancestors() if a.get("id")), process)
        event = (listener.get("event") or listener.get("eventType") or "").strip()
        if owner is process and (event not in ("start", "end") or etree.QName(listener).localname == "taskListener"):
            raise _refuse(owner, name, f"a process-level listener runs at start or end, not {event!r}")
        if event == "update":
            raise _refuse(owner, name, "update task listeners are not supported; use an assignment or complete "
                                       "listener")
        if event == "timeout":
            _check_timeout(listener, owner, name)
        local = etree.QName(listener).localname
        if local == "executionListener" and etree.QName(listener).namespace == ZEEBE_NS:
            if not (listener.get("type") or "").strip():
                raise _refuse(owner, name, "a Camunda 8 execution listener needs a job type")
            continue
        if not any(listener.get(a) for a in ("class", "delegateExpression", "expression")) and \
                not listener.xpath("./camunda:script", namespaces=NSMAP):
            raise _refuse(owner, name, f"the {event} listener names no class, delegateExpression, expression or "
                                       f"script")


def _check_timeout(listener: etree._Element, owner: etree._Element, name: str) -> None:
    """A timeout task listener needs its timer (Camunda 7 refuses to deploy one without it)."""
    timers = listener.xpath("./bpmn:timerEventDefinition/*", namespaces=NSMAP)
    if not timers or etree.QName(owner).localname != "userTask":
        raise _refuse(owner, name, "a timeout task listener needs a bpmn:timerEventDefinition (timeDuration, "
                                   "timeDate or timeCycle) and belongs on a user task")
    text = (timers[0].text or "").strip()
    kind = etree.QName(timers[0]).localname
    if kind in ("timeDuration", "timeDate", "timeCycle") and not any(mark in text for mark in ("${", "#{", "=")):
        problem = iso_problem(kind, text)
        if problem:
            raise _refuse(owner, name, f"the timeout task listener's {kind} {text!r}: {problem}")


def _scripts(process: etree._Element, name: str) -> None:
    for task in process.iter(_b("scriptTask")):
        zeebe = task.xpath("./bpmn:extensionElements/zeebe:script", namespaces=NSMAP)
        if zeebe:
            expression, variable = zeebe[0].get("expression", ""), zeebe[0].get("resultVariable", "")
            if not expression or not variable:
                raise _refuse(task, name, "a Camunda 8 script task needs an expression and a resultVariable")
            script = task.find(_b("script"))
            if script is None:
                script = etree.SubElement(task, _b("script"))
            script.text = f"{FEEL_SCRIPT_MARKER}{variable}\n{expression}"
            continue
        script_format = (task.get("scriptFormat") or "").strip().lower()
        if script_format not in PYTHON_SCRIPT_FORMATS and script_format not in JAVASCRIPT_FORMATS:
            raise _refuse(task, name, f"script format {task.get('scriptFormat')!r} is not supported; "
                                      f"bpmn-runner runs JavaScript and Python scripts (and Camunda 8 FEEL script "
                                      f"tasks)")
        if task.get(f"{{{CAMUNDA_NS}}}resource"):
            raise _refuse(task, name, "external script resources (camunda:resource) are not supported; "
                                      "put the script in the diagram")
        if script_format in JAVASCRIPT_FORMATS:
            script = task.find(_b("script"))
            if script is None:
                script = etree.SubElement(task, _b("script"))
            result_variable = (task.get(f"{{{CAMUNDA_NS}}}resultVariable") or "").strip()
            script.text = f"{JAVASCRIPT_TASK_MARKER}{result_variable}\n{script.text or ''}"


def _parameter_scripts(process: etree._Element, name: str) -> None:
    """Scripts inside Camunda 7 input/output parameters run as JavaScript; other languages are refused here."""
    for script in process.iter(f"{{{CAMUNDA_NS}}}script"):
        owner = next((a for a in script.iterancestors() if a.get("id")), process)
        script_format = (script.get("scriptFormat") or "").strip().lower()
        if script.get("resource"):
            raise _refuse(owner, name, "external script resources (camunda:script resource=...) are not "
                                       "supported; put the script in the diagram")
        if script_format not in JAVASCRIPT_FORMATS:
            raise _refuse(owner, name, f"script format {script.get('scriptFormat')!r} in a camunda:script is not "
                                       f"supported; bpmn-runner runs JavaScript there")


def _conditions(process: etree._Element, name: str, *, camunda7: bool) -> None:
    for condition in process.iter(_b("conditionExpression"), _b("completionCondition"), _b("loopCondition")):
        language = (condition.get("language") or "").strip().lower().rstrip("/")
        text = (condition.text or "").strip()
        camunda7_condition = camunda7 and condition.tag != _b("loopCondition")  # Camunda 7 has no standard loops
        if text.startswith(SIMULATED_MARKER):  # a simulation's stand-in for a flow drawn without a condition
            continue
        if camunda7_condition and not language and text and "${" not in text and "#{" not in text:
            # Camunda 7 reads this text as a JUEL literal string, which its condition rule rejects at run time.
            raise _refuse(condition.getparent(), name, f"condition {text!r} is not a Camunda 7 expression; "
                                                       f"write it as ${{{text}}}")
        if not language or language in ("python", "juel", "text/x-python"):
            continue
        if language in JAVASCRIPT_FORMATS:
            condition.text = JAVASCRIPT_MARKER + "".join(condition.itertext())
            continue
        if any(language.rstrip("/") == f.rstrip("/") for f in FEEL_LANGUAGES):
            if text and not text.startswith("="):
                condition.text = "=" + text
            continue
        owner = condition.getparent()
        raise _refuse(owner, name, f"condition language {condition.get('language')!r} is not supported; "
                                   f"write the condition in JUEL ${{...}}, FEEL =..., JavaScript or Python")


def _call_activities(process: etree._Element, name: str) -> None:
    for call in process.iter(_b("callActivity")):
        if call.get("calledElement"):
            continue
        zeebe = call.xpath("./bpmn:extensionElements/zeebe:calledElement", namespaces=NSMAP)
        if zeebe and zeebe[0].get("processId"):
            process_id = zeebe[0].get("processId", "").strip()
            if process_id.startswith("="):
                unwrapped = _unwrap(process_id)
                if unwrapped is None or not process_id[1:].strip().startswith('"'):
                    raise _refuse(call, name, "a called process id computed by an expression is not supported; "
                                              "name the process id literally")
            call.set("calledElement", process_id.strip('="'))


def _multi_instance(process: etree._Element, name: str) -> None:
    for loop in process.iter(_b("multiInstanceLoopCharacteristics")):
        zeebe = loop.xpath("./bpmn:extensionElements/zeebe:loopCharacteristics", namespaces=NSMAP)
        if zeebe:
            _zeebe_multi_instance(loop, zeebe[0], name)
        collection = loop.get(f"{{{CAMUNDA_NS}}}collection")
        if collection is not None:
            plain = _unwrap(collection)
            if plain is None:
                raise _refuse(loop.getparent(), name, f"multi-instance collection {collection!r} must name one "
                                                      f"variable")
            loop.set(f"{{{CAMUNDA_NS}}}collection", plain)


def _zeebe_multi_instance(loop: etree._Element, zeebe: etree._Element, name: str) -> None:
    collection = _unwrap(zeebe.get("inputCollection"))
    if collection is None:
        raise _refuse(loop.getparent(), name, f"multi-instance inputCollection {zeebe.get('inputCollection')!r} "
                                              f"must name one variable (like =items)")
    _child(loop, "loopDataInputRef").text = collection
    element = zeebe.get("inputElement")
    if element:
        _child(loop, "inputDataItem").set("name", element)
        loop.find(_b("inputDataItem")).set("id", element)
    output = zeebe.get("outputCollection")
    if output:
        _child(loop, "loopDataOutputRef").text = output
        output_element = _unwrap(zeebe.get("outputElement"))
        if output_element is None:
            raise _refuse(loop.getparent(), name, "multi-instance outputElement must name one variable "
                                                  "(like =result)")
        item = _child(loop, "outputDataItem")
        item.set("name", output_element)
        item.set("id", output_element)


_ORDER = ("loopCardinality", "loopDataInputRef", "loopDataOutputRef", "inputDataItem", "outputDataItem",
          "complexBehaviorDefinition", "completionCondition")


def _child(loop: etree._Element, tag: str) -> etree._Element:
    """Find or create a standard child, keeping the schema's order of children."""
    found = loop.find(_b(tag))
    if found is not None:
        return found
    new = etree.Element(_b(tag))
    rank = _ORDER.index(tag)
    for index, existing in enumerate(loop):
        local = etree.QName(existing).localname if isinstance(existing.tag, str) else ""
        if local in _ORDER and _ORDER.index(local) > rank:
            loop.insert(index, new)
            return new
    loop.append(new)
    return new

