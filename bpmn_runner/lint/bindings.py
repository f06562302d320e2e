"""Handler binding rules: every service task names a handler, the handler is registered, no handler is idle, and
every input a handler declares is mapped. The one rule set: `validate`, the engine's start check and the modeler's
drift report (`modeler/drift.py`) all ask these functions."""

from __future__ import annotations

import inspect
from pathlib import Path

from lxml import etree

from ..loader.dialects import BINDABLE_TAGS, bindable_elements, read_binding, read_io_mappings, read_spiff_parameters
from ..loader.documents import Document, display_name
from ..loader.listeners import read_listeners
from ..models import Binding
from ..registry import HandlerRegistry, RegisteredHandler
from ._core import Context, Finding, Rule, local

UNBOUND_SERVICE_TASK = Rule("unbound-service-task", "error", "a service task names its handler (camunda:topic, "
                                                             "zeebe:taskDefinition type, spiffworkflow operator...)")
HANDLER_NOT_REGISTERED = Rule("handler-not-registered", "error",
                              "the handler a task names is registered, with a did-you-mean (a warning when no "
                              "--handlers are given)")
UNUSED_HANDLER = Rule("unused-handler", "info", "a handler given with --handlers is used by some loaded diagram")
HANDLER_INPUT_MISSING = Rule("handler-input-missing", "warning", "every input a registered handler declares is "
                                                                 "given by an input mapping or SpiffArena parameter")
RULES = (UNBOUND_SERVICE_TASK, HANDLER_NOT_REGISTERED, UNUSED_HANDLER)


# --- the rules, over plain elements and registries ----------------------------------------------------------

def binding_problem(binding: Binding | None, handlers: HandlerRegistry, element_id: str) -> str | None:
    """Why a task cannot run with these handlers, or None when it can."""
    if binding is None or not binding.name:
        return (f"service task {element_id!r} has no handler binding; add a camunda:topic, a zeebe:taskDefinition "
                f"type or a spiffworkflow:serviceTaskOperator")
    if binding.name in handlers:
        return None
    hint = handlers.suggest(binding.name)
    did_you_mean = f" (did you mean {hint!r}?)" if hint else ""
    return (f"task {element_id!r} needs a handler for {binding.name!r}{did_you_mean}; register one with "
            f"@handler({binding.name!r}) and pass --handlers")


def binding_finding(binding: Binding | None, handlers: HandlerRegistry, element_id: str, *,
                    handlers_given: bool) -> tuple[Rule, str, str] | None:
    """(rule, severity, message) for a task's binding, or None when its handler is registered. A task naming a
    handler nobody registered is only a warning until handlers are given."""
    problem = binding_problem(binding, handlers, element_id)
    if problem is None:
        return None
    if binding is None or not binding.name:
        return UNBOUND_SERVICE_TASK, UNBOUND_SERVICE_TASK.severity, problem
    return HANDLER_NOT_REGISTERED, "error" if handlers_given else "warning", problem


def unused_handlers(handlers: HandlerRegistry, used: set[str]) -> list[tuple[str, RegisteredHandler]]:
    """Registered handlers no task binds to; those from installed plugins (entry points) serve many projects."""
    return [(name, registered) for name, registered in handlers.items()
            if name not in used and not registered.source.startswith("entry point")]


def provided_inputs(element: etree._Element) -> set[str]:
    """Names the task puts in `call.params`: input mapping targets and SpiffArena parameter names."""
    names = {m.target for m in read_io_mappings(element).inputs if m.target}
    return names | set(read_spiff_parameters(element))


def input_gaps(element: etree._Element, handlers: HandlerRegistry) -> list[str]:
    """One message per input the task's registered handler declares and the task does not map."""
    binding = read_binding(element)
    registered = handlers.get(binding.name) if binding is not None and binding.name else None
    if registered is None or not registered.info.inputs:
        return []
    provided = provided_inputs(element)
    element_id = element.get("id", "")
    name = " ".join((element.get("name") or "").split())
    label = f"{name!r} ({element_id})" if name else repr(element_id)
    return [f"task {label} gives handler {registered.info.name!r} no input {key!r} ({type_name}), so call.params "
            f"has no {key!r}; add an input mapping (or SpiffArena parameter) named {key!r}, or apply the "
            f"handler's element template"
            for key, type_name in registered.info.inputs.items() if key not in provided]


def handler_location(registered: RegisteredHandler) -> tuple[str, int]:
    """Where a handler is written (file as the user would type it, line), or its source and line 1."""
    func = inspect.unwrap(registered.func)
    try:
        file = inspect.getsourcefile(func)  # type: ignore[arg-type]
        line = inspect.getsourcelines(func)[1]  # type: ignore[arg-type]
    except (OSError, TypeError):
        return registered.source, 1
    return (display_name(Path(file)) if file else registered.source), line


# --- the linter's checks ------------------------------------------------------------------------------------

def bound_tasks(document: Document) -> list[tuple[etree._Element, Binding | None]]:
    """Service, send and business rule tasks of a document that call a handler, or should."""
    return bindable_elements(document.root)


def listener_handlers(document: Document) -> list[tuple[etree._Element, str]]:
    """(element, handler name) of every class, delegate, expression or job-type listener."""
    out = []
    for element in document.root.iter():
        if isinstance(element.tag, str) and element.get("id"):
            for listener in read_listeners(element):
                name = listener.get("name") or ""
                runs = listener["event"] not in ("timeout", "update") and local(element) != "process"
                if runs and listener["kind"] != "script" and name and \
                        name not in ("execution.setVariable", "task.setVariable"):
                    out.append((element, name))
    return out


def check_bindings(ctx: Context, document: Document) -> None:
    registry = ctx.handlers or HandlerRegistry()
    for element, name in listener_handlers(document):
        if name not in registry:
            hint = registry.suggest(name)
            did_you_mean = f" (did you mean {hint!r}?)" if hint else ""
            ctx.report(HANDLER_NOT_REGISTERED, document, element,
                       f"a listener on {element.get('id')!r} needs a handler for {name!r}{did_you_mean}; register "
                       f"one with @handler({name!r}) and pass --handlers",
                       severity=None if ctx.handlers_given else "warning")
    for element, binding in bound_tasks(document):
        found = binding_finding(binding, registry, element.get("id", ""), handlers_given=ctx.handlers_given)
        if found is None:
            continue
        rule, severity, message = found
        ctx.report(rule, document, element, message, severity=severity)


def check_unused_handlers(ctx: Context) -> None:
    registry = ctx.handlers
    if registry is None or ctx.failed_files or not ctx.bpmn_documents():
        return  # a handler may be used by the file that did not load
    used = {b.name for doc in ctx.bpmn_documents() for _, b in bound_tasks(doc) if b is not None}
    used |= {name for doc in ctx.bpmn_documents() for _, name in listener_handlers(doc)}
    for name, registered in unused_handlers(registry, used):
        file, line = handler_location(registered)
        ctx.add(Finding(file, line, UNUSED_HANDLER.severity,
                        f"handler {name!r} is registered but no loaded diagram uses it", UNUSED_HANDLER.id))


def check_handler_inputs(ctx: Context, document: Document) -> None:
    if ctx.handlers is None or document.kind != "bpmn":
        return
    for element in document.root.iter(*BINDABLE_TAGS):
        for message in input_gaps(element, ctx.handlers):
            ctx.report(HANDLER_INPUT_MISSING, document, element, message)


PER_DOCUMENT = (check_bindings,)
ACROSS_DOCUMENTS = (check_unused_handlers,)
