"""Every public exception is defined in bpmn_runner.errors and drawn in the tree of its docstring."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import bpmn_runner
from bpmn_runner import errors, run

from .scenario import registry, write

PENDING_MOVE: set[str] = set()  # every public exception now lives in errors.py


def _public_modules() -> list[str]:
    names = [bpmn_runner.__name__]
    for info in pkgutil.walk_packages(bpmn_runner.__path__, prefix="bpmn_runner."):
        if not any(part.startswith("_") for part in info.name.split(".")[1:]):
            names.append(info.name)
    return names


def _exception_classes() -> dict[str, type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for name in _public_modules():
        module = importlib.import_module(name)
        for attr, value in vars(module).items():
            if attr.startswith("_") or not inspect.isclass(value) or not issubclass(value, BaseException):
                continue
            if value.__module__.split(".")[0] != "bpmn_runner":
                continue  # a foreign exception a module merely imports
            found[f"{value.__module__}.{value.__qualname__}"] = value
    return found


def test_every_public_exception_is_defined_in_errors():
    """A user meets our BpmnRunnerErrors (and a test our assertion errors); detail-only exceptions that never leave
    their package (expressions' Problem, DMN's DmnProblem) are not public."""
    elsewhere = sorted(name for name, cls in _exception_classes().items()
                       if cls.__module__ != errors.__name__
                       and issubclass(cls, (errors.BpmnRunnerError, AssertionError)))
    assert [n for n in elsewhere if n not in PENDING_MOVE] == []
    assert {"ProcessAssertionError", "ScenarioFailed"} <= set(vars(errors))


def test_every_exception_in_errors_is_drawn_in_the_tree():
    doc = errors.__doc__ or ""
    classes = [cls for cls in vars(errors).values() if inspect.isclass(cls) and issubclass(cls, BaseException)
               and cls.__module__ == errors.__name__]
    assert len(classes) >= 20
    assert [cls.__name__ for cls in classes if f" {cls.__name__} " not in doc] == []


def test_the_tree_matches_the_classes():
    """Each name drawn under a parent in the docstring subclasses that parent."""
    lines = [line for line in (errors.__doc__ or "").splitlines() if "──" in line or "BpmnRunnerError" in line]
    stack: list[tuple[int, type]] = []
    checked = 0
    for line in lines:
        name = line.replace("│", " ").replace("├──", "   ").replace("└──", "   ").split()[0]
        depth = len(line) - len(line.replace("│", " ").replace("├──", "   ").replace("└──", "   ").lstrip())
        cls = getattr(errors, name)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        if stack:
            assert issubclass(cls, stack[-1][1]), f"{name} is drawn under {stack[-1][1].__name__}"
            checked += 1
        stack.append((depth, cls))
    assert checked >= 18


def test_moved_exceptions_are_still_importable_from_their_old_homes():
    from bpmn_runner.expressions import MissingVariableError

    assert MissingVariableError is errors.MissingVariableError


# A service task, then a gateway whose condition (or the task's output mapping) cannot parse.
_BODY = """<bpmn:startEvent id="S"/>
<bpmn:sequenceFlow id="f1" sourceRef="S" targetRef="T"/>
<bpmn:serviceTask id="T" implementation="svc">{mapping}</bpmn:serviceTask>
<bpmn:sequenceFlow id="f2" sourceRef="T" targetRef="G"/>
<bpmn:exclusiveGateway id="G" default="f4"/>
<bpmn:sequenceFlow id="f3" sourceRef="G" targetRef="E">
  <bpmn:conditionExpression>{condition}</bpmn:conditionExpression>
</bpmn:sequenceFlow>
<bpmn:sequenceFlow id="f4" sourceRef="G" targetRef="E"/>
<bpmn:endEvent id="E"/>"""
_OUTPUT = ('<bpmn:extensionElements><camunda:inputOutput><camunda:outputParameter name="total">{}'
           '</camunda:outputParameter></camunda:inputOutput></bpmn:extensionElements>')


@pytest.mark.parametrize("condition, mapping, at, what", [
    ("${amount &gt;}", "", "<bpmn:conditionExpression>", "condition: cannot parse ${amount >}"),
    ("=amount &gt; ", "", "<bpmn:conditionExpression>", "condition: cannot parse =amount >"),
    ("amount &gt; (", "", "<bpmn:conditionExpression>", "condition: cannot parse amount > ("),
    ("${amount &gt; 1}", _OUTPUT.format("${amount +}"), "<bpmn:serviceTask",
     "mapping of 'total': cannot parse ${amount +}"),
])
def test_an_expression_that_cannot_parse_fails_at_load_before_any_handler_runs(tmp_path, condition, mapping, at,
                                                                                what):
    """A definition error that can be found at load is raised at load: the handler before it never runs."""
    path = write(tmp_path, _BODY.format(condition=condition, mapping=mapping))
    line = next(n for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if at in text)
    calls = []
    with pytest.raises(errors.DefinitionError) as caught:
        run([str(path)], handlers=registry(svc=lambda call: calls.append(call) or {"amount": 3}))
    assert calls == []
    assert caught.value.line == line
    assert what in str(caught.value)
    assert str(caught.value).startswith(f"{caught.value.file}:{line}: error: ")


@pytest.mark.parametrize("body, words", [
    ('<bpmn:startEvent id="S"><bpmn:messageEventDefinition messageRef="nope"/></bpmn:startEvent>'
     '<bpmn:sequenceFlow id="f" sourceRef="S" targetRef="E"/><bpmn:endEvent id="E"/>',
     "start event 'S': messageRef 'nope' names no message"),
    ('<bpmn:startEvent id="S"/><bpmn:sequenceFlow id="f" sourceRef="S" targetRef="C"/>'
     '<bpmn:intermediateThrowEvent id="C"><bpmn:signalEventDefinition signalRef="tns:nope"/>'
     '</bpmn:intermediateThrowEvent><bpmn:sequenceFlow id="f2" sourceRef="C" targetRef="E"/><bpmn:endEvent id="E"/>',
     "intermediate throw event 'C': signalRef 'tns:nope' names no signal"),
    ('<bpmn:startEvent id="S"/><bpmn:sequenceFlow id="f" sourceRef="S" targetRef="E"/>'
     '<bpmn:endEvent id="E"><bpmn:errorEventDefinition errorRef="Message_1"/></bpmn:endEvent>',
     "end event 'E': errorRef 'Message_1' names no error"),
])
def test_a_reference_to_nothing_is_a_definition_error_not_an_engine_crash(tmp_path, body, words):
    """Bug 6: SpiffWorkflow stops on these with AssertionError(...) or TypeError(...) text; the user gets the
    element, the attribute and what to do."""
    from bpmn_runner import load

    path = write(tmp_path, body, extra='<bpmn:message id="Message_1" name="m"/>')
    with pytest.raises(errors.DefinitionError) as caught:
        load([path])
    assert words in str(caught.value) and caught.value.line and caught.value.file
    assert "Error(" not in str(caught.value)


def test_an_executable_process_without_an_id_is_a_definition_error(tmp_path):
    """Bug 6: it used to end in "TypeError: sequence item 0: expected str instance, NoneType found"."""
    from bpmn_runner import load

    path = write(tmp_path, '<bpmn:startEvent id="S"/>')
    path.write_text(path.read_text(encoding="utf-8").replace('<bpmn:process id="p"', "<bpmn:process"),
                    encoding="utf-8")
    with pytest.raises(errors.DefinitionError, match="an executable process has no id") as caught:
        load([path])
    assert caught.value.line == 4


def test_an_empty_multi_instance_collection_says_what_is_empty(tmp_path):
    """Bug 6: an empty loopDataInputRef used to fail with "an expression must be text, not NoneType"."""
    from bpmn_runner import run

    path = write(tmp_path, '<bpmn:startEvent id="S"/><bpmn:sequenceFlow id="f1" sourceRef="S" targetRef="T"/>'
                           '<bpmn:task id="T"><bpmn:multiInstanceLoopCharacteristics isSequential="true">'
                           '<bpmn:loopDataInputRef></bpmn:loopDataInputRef>'
                           '<bpmn:inputDataItem id="item" name="item"/></bpmn:multiInstanceLoopCharacteristics>'
                           '</bpmn:task><bpmn:sequenceFlow id="f2" sourceRef="T" targetRef="E"/>'
                           '<bpmn:endEvent id="E"/>')
    try:
        result = run([str(path)], simulate=True)
    except errors.BpmnRunnerError as exc:
        message = str(exc)
    else:
        message = result.error or ""
    assert "NoneType" not in message and "Error(" not in message
