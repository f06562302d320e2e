"""Handler binding rules: every service task names a handler, the handler is registered, and no handler is idle."""

from __future__ import annotations

import inspect
from pathlib import Path

from lxml import etree

from ..engine import binding_problem
from ..loader.dialects import BINDABLE_TAGS, read_binding
from ..loader.documents import Document, display_name
from ..loader.listeners import read_listeners
from ..models import Binding
from ..registry import HandlerRegistry
from ._core import Context, Finding, Rule, local

UNBOUND_SERVICE_TASK = Rule("unbound-service-task", "error", "a service task names its handler (camunda:topic, "
                                                             "zeebe:taskDefinition type, spiffworkflow operator...)")
HANDLER_NOT_REGISTERED = Rule("handler-not-registered", "error",
                              "the handler a task names is registered, with a did-you-mean (a warning when no "
                              "--handlers are given)")
UNUSED_HANDLER = Rule("unused-handler", "info", "a handler given with --handlers is used by some loaded diagram")
RULES = (UNBOUND_SERVICE_TASK, HANDLER_NOT_REGISTERED, UNUSED_HANDLER)


def bound_tasks(document: Document) -> list[tuple[etree._Element, Binding | None]]:
    """Service, send and business rule tasks that call a handler, or should (as `Definitions.bound_tasks`)."""
    out = []
    for element in document.root.iter(*BINDABLE_TAGS):
        binding = read_binding(element)
        if binding is None and local(element) != "serviceTask":
            continue  # a send task throwing a message or a DMN business rule task
        out.append((element, binding))
    return out


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
        problem = binding_problem(binding, registry, element.get("id", ""))
        if binding is None or not binding.name:
            ctx.report(UNBOUND_SERVICE_TASK, document, element, problem or "")
            continue
        if problem:
            ctx.report(HANDLER_NOT_REGISTERED, document, element, problem,
                       severity=None if ctx.handlers_given else "warning")


def check_unused_handlers(ctx: Context) -> None:
    registry = ctx.handlers
    if registry is None or ctx.failed_files or not ctx.bpmn_documents():
        return  # a handler may be used by the file that did not load
    used = {b.name for doc in ctx.bpmn_documents() for _, b in bound_tasks(doc) if b is not None}
    used |= {name for doc in ctx.bpmn_documents() for _, name in listener_handlers(doc)}
    for name, registered in registry.items():
        if name in used or registered.source.startswith("entry point"):
            continue
        file, line = _where(registered.func)
        ctx.add(Finding(file, line, UNUSED_HANDLER.severity,
                        f"handler {name!r} is registered but no loaded diagram uses it", UNUSED_HANDLER.id))


def _where(func: object) -> tuple[str, int]:
    try:
        source = inspect.getsourcefile(func)  # type: ignore[arg-type]
        code = getattr(func, "__code__", None)
        if source:
            return display_name(Path(source)), code.co_firstlineno if code else 1
    except TypeError:
        pass
    return getattr(func, "__module__", "handlers"), 1


PER_DOCUMENT = (check_bindings,)
ACROSS_DOCUMENTS = (check_unused_handlers,)
