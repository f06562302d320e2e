"""The text of a generated handler module: one documented `@handler` stub per handler the diagrams need."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .scaffold import Stub

_HOW_BOUND = {
    "topic": "Camunda 7 external task, camunda:topic", "class": "Camunda 7 camunda:class",
    "delegateExpression": "Camunda 7 camunda:delegateExpression", "expression": "Camunda 7 camunda:expression",
    "connector": "Camunda 7 connector id", "type": "Camunda 8 zeebe:taskDefinition type",
    "operator": "SpiffArena serviceTaskOperator id", "implementation": "BPMN implementation attribute",
}


def render_module(stubs: list[Stub], unbound: list[tuple[str, int, str, str]], sources: list[str]) -> str:
    """The Python text of the handler module."""
    listens = any(_is_listener(stub) for stub in stubs)
    lines = [
        _docstring("", "Handler stubs written by `bpmn-runner scaffold` from:\n\n"
                   + "".join(f"    {one_line(source)}\n" for source in sources) + "\n"
                   "Each stub raises NotImplementedError until it is implemented: replace its body, keep the\n"
                   "@handler name (it is the name the diagram binds to). Load with --handlers THIS_FILE."),
        "",
        "from __future__ import annotations",
        "",
        "from typing import Any",
        "",
        "from bpmn_runner import " + ("ListenerCall, " if listens else "") + "ServiceCall, handler",
        "",
    ]
    if unbound:
        lines.append("# Service tasks that name no handler (give each a topic, job type or operator id in the modeler,")
        lines.append("# then scaffold again):")
        lines += [f"#   {file}:{line}: {element_id} {name!r}" for file, line, element_id, name in unbound]
        lines.append("")
    for stub in stubs:
        lines += ["", *_render_stub(stub)]
    return "\n".join(lines).rstrip("\n") + "\n"


def _is_listener(stub: Stub) -> bool:
    return all(task.binding.kind == "listener" for task in stub.tasks)


def _render_stub(stub: Stub) -> list[str]:
    if _is_listener(stub):
        where = "\n".join(f"{t.name} of {t.element_id}, {t.file}:{t.line}" for t in stub.tasks)
        return [f"@handler({_literal(stub.name)})",
                f"def {stub.function}(call: ListenerCall) -> dict[str, Any] | None:",
                _docstring("    ", f"Listener '{stub.name}': call.event says which event; return variables to "
                                   f"set, or None.\n{where}"),
                f"    raise NotImplementedError({_literal(stub.name + ': implement the listener')})", ""]
    args = [_literal(stub.name), f"label={_literal(stub.label)}"]
    if stub.input_types():
        args.append(f"inputs={_literal(stub.input_types())}")
    if stub.outputs():
        args.append(f"outputs={_literal(stub.outputs())}")
    decorator = "@handler(" + ", ".join(args) + ")"
    if len(decorator) > 110:
        decorator = "@handler(" + (",\n         ".join(args)) + ")"
    return [decorator,
            f"def {stub.function}(call: ServiceCall) -> dict[str, Any]:",
            _docstring("    ", _stub_doc(stub)),
            f"    raise NotImplementedError({_literal(stub.message())})", ""]


def _stub_doc(stub: Stub) -> str:
    parts = [f"{stub.label}: the handler for '{stub.name}'."]
    for task in stub.tasks:
        block = [f"Task {task.element_id} '{task.name}', {task.file}:{task.line}",
                 f"({_HOW_BOUND.get(task.binding.kind, task.binding.kind)} '{task.binding.name}')."]
        if task.inputs:
            block.append("Inputs, in call.params (from the diagram's input mappings / parameters):")
            block += [f"    {key} ({task.input_types.get(key, 'any')}) <- {source}"
                      for key, source in task.inputs.items()]
        else:
            block.append("Inputs: the diagram maps none, so call.params is empty; read call.data.")
        if task.binding.result_variable:
            block.append(f"The result is stored under the resultVariable {task.binding.result_variable!r}.")
        if task.outputs:
            block.append("Outputs the diagram reads later (return them, unless another step sets them):")
            block += [f"    {key}: {where}" for key, where in task.outputs.items()]
        else:
            block.append("Outputs: the diagram reads none of the returned names later.")
        parts.append("\n".join(block))
    return "\n\n".join(parts)


def _literal(value: str | dict[str, str]) -> str:
    """A Python literal in double quotes (JSON string escapes are Python escapes too)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    return json.dumps(value, ensure_ascii=False)


def one_line(text: str) -> str:
    return " ".join((text or "").split())


def _docstring(indent: str, text: str) -> str:
    """A triple-quoted docstring that holds any text safely: backslashes, quotes and control characters escaped."""
    safe = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    safe = "".join(c if c.isprintable() or c == "\n" else repr(c)[1:-1] for c in safe)
    body = "\n".join((indent + line) if line else "" for line in safe.split("\n"))
    return f'{indent}"""{body[len(indent):]}\n{indent}"""'
