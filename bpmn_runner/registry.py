"""Handler registration: the `@handler` decorator and the explicit `HandlerRegistry`."""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import inspect
import os
import sys
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterable

from .errors import DefinitionError
from .models import ServiceCall

HandlerFunc = Callable[[ServiceCall], Any]
ENTRY_POINT_GROUP = "bpmn_runner.handlers"
_MARK = "__bpmn_runner_handler__"


#: The type names a handler may declare for its inputs and outputs (JSON types, plus "any").
TYPE_NAMES = ("string", "integer", "number", "boolean", "object", "array", "any")
_PYTHON_TYPES: dict[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean",
                                 dict: "object", list: "array", Any: "any", object: "any"}
_ALIASES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean", "dict": "object",
            "list": "array", "long": "integer", "double": "number", "decimal": "number", "json": "object"}


def _type_name(owner: str, key: str, value: Any) -> str:
    """A declared type as one of TYPE_NAMES: a name (`"integer"`, `"int"`) or a Python type (`int`)."""
    if isinstance(value, str):
        text = value.strip().lower()
        name = _ALIASES.get(text, text)
        if name in TYPE_NAMES:
            return name
    elif isinstance(value, type) or value is Any:
        if value in _PYTHON_TYPES:
            return _PYTHON_TYPES[value]
    raise TypeError(f"@handler({owner!r}): {key} has type {value!r}; use one of {', '.join(TYPE_NAMES)} "
                    f"or str, int, float, bool, dict, list")


def _schema(owner: str, kind: str, declared: dict[str, Any] | Iterable[str] | None) -> dict[str, str]:
    if declared is None:
        return {}
    if isinstance(declared, str):
        raise TypeError(f"@handler({owner!r}): {kind} must be a dict of name -> type, like {{'sku': 'string'}}")
    items = declared.items() if isinstance(declared, dict) else ((name, "any") for name in declared)
    return {str(key): _type_name(owner, f"{kind[:-1]} {key!r}", value) for key, value in items}


@dataclass(frozen=True)
class HandlerInfo:
    """What `@handler` records on a function; typed inputs and outputs are optional."""

    name: str
    label: str = ""
    description: str = ""
    inputs: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    listener: str | None = None   # an execution listener's event ("start", "end"): templates attach it as one


LISTENER_EVENTS = ("start", "end")


def handler(name: str, *, label: str = "", description: str = "",
            inputs: dict[str, Any] | Iterable[str] | None = None,
            outputs: dict[str, Any] | Iterable[str] | None = None,
            listener: str | None = None) -> Callable[[HandlerFunc], HandlerFunc]:
    """Mark a function as the handler for a topic / job type / operator id. It registers nothing by itself.

    `label` and `description` are what a modeler shows; `inputs` (what the handler reads from `call.params`)
    and `outputs` (what it returns) map names to a type from TYPE_NAMES or a Python type (`str`, `int`, ...);
    a plain list of names means type "any". An unknown type is a TypeError at import time. `listener="start"`
    (or "end") marks an execution listener: its element template adds the listener to any flow node.
    """
    if listener is not None and listener not in LISTENER_EVENTS:
        raise TypeError(f"@handler({name!r}): listener must be one of {', '.join(LISTENER_EVENTS)}")
    if not isinstance(name, str) or not name.strip():
        raise TypeError("@handler needs the topic, job type or operator id as a non-empty string")
    input_types = _schema(name, "inputs", inputs)
    output_types = _schema(name, "outputs", outputs)

    def mark(func: HandlerFunc) -> HandlerFunc:
        doc = inspect.getdoc(func) or ""
        info = HandlerInfo(name=name, label=label, description=description or doc.split("\n\n")[0],
                           inputs=dict(input_types), outputs=dict(output_types), listener=listener)
        marks = list(getattr(func, _MARK, ()))
        marks.append(info)
        setattr(func, _MARK, marks)
        return func

    return mark


@dataclass
class RegisteredHandler:
    """A handler function with where it came from."""

    func: HandlerFunc
    info: HandlerInfo
    source: str


class HandlerRegistry:
    """Maps binding names to handler functions. Built explicitly and handed to the engine."""

    def __init__(self) -> None:
        self._handlers: dict[str, RegisteredHandler] = {}

    def register(self, name: str, func: HandlerFunc, *, source: str = "", info: HandlerInfo | None = None) -> None:
        """Register `func` under `name`; registering a second, different function under one name is an error."""
        existing = self._handlers.get(name)
        if existing is not None and not same_function(existing.func, func):
            raise DefinitionError(
                f"handler {name!r} is registered twice ({existing.source} and {source}); keep one")
        self._handlers[name] = RegisteredHandler(func, info or HandlerInfo(name=name), source or _describe(func))

    def add(self, func: HandlerFunc, *, source: str = "") -> None:
        """Register a function marked with `@handler` under each of its names."""
        marks = getattr(func, _MARK, None)
        if not marks:
            raise TypeError(f"{func!r} is not marked with @handler")
        for info in marks:
            self.register(info.name, func, source=source or _describe(func), info=info)

    def add_module(self, module: ModuleType, *, source: str = "") -> int:
        """Register every `@handler` function defined in a module; returns how many names it added."""
        count = 0
        for _, value in vars(module).items():
            marks = getattr(value, _MARK, None)
            if callable(value) and marks:
                self.add(value, source=source or f"{module.__name__}.{getattr(value, '__name__', '?')}")
                count += len(marks)
        return count

    def load(self, spec: str) -> int:
        """Load handlers from a dotted module name or a `.py` file path."""
        return self.add_module(import_handler_module(spec), source=spec)

    def load_entry_points(self) -> int:
        """Load the modules or functions of the `bpmn_runner.handlers` entry-point group."""
        count = 0
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:
                obj = ep.load()
            except Exception as exc:  # a broken plugin must not hide the others
                raise DefinitionError(f"entry point {ep.name!r} ({ep.value}) failed to load: {exc}") from exc
            if isinstance(obj, ModuleType):
                count += self.add_module(obj, source=f"entry point {ep.name}")
            else:
                self.add(obj, source=f"entry point {ep.name}")
                count += 1
        return count

    def get(self, name: str) -> RegisteredHandler | None:
        return self._handlers.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._handlers

    def __len__(self) -> int:
        return len(self._handlers)

    def names(self) -> list[str]:
        return sorted(self._handlers)

    def items(self) -> Iterable[tuple[str, RegisteredHandler]]:
        return sorted(self._handlers.items())

    def suggest(self, name: str) -> str | None:
        """The closest registered name, for a did-you-mean."""
        close = difflib.get_close_matches(name, list(self._handlers), n=1, cutoff=0.6)
        return close[0] if close else None

    @classmethod
    def from_specs(cls, specs: Iterable[str], *, entry_points: bool = False) -> "HandlerRegistry":
        return build_registry(specs, entry_points=entry_points)


Wrapper = Callable[[str, HandlerFunc], HandlerFunc]


def build_registry(specs: Iterable[str] = (), *, entry_points: bool = True,
                   overrides: dict[str, tuple[HandlerFunc, str]] | None = None,
                   wrap: Wrapper | None = None) -> HandlerRegistry:
    """THE way to build a registry: handler modules or `.py` files, the entry-point group, then `overrides`
    (name -> (function, source): a test's fakes) replacing single names; `wrap(name, func)` wraps each handler
    (a test counts or records calls with it)."""
    loaded = HandlerRegistry()
    for spec in specs:
        loaded.load(spec)
    if entry_points:
        loaded.load_entry_points()
    overrides = overrides or {}
    if not overrides and wrap is None:
        return loaded
    registry = HandlerRegistry()
    for name, registered in loaded.items():
        if name not in overrides:
            func = wrap(name, registered.func) if wrap is not None else registered.func
            registry.register(name, func, source=registered.source, info=registered.info)
    for name, (func, source) in overrides.items():
        registry.register(name, wrap(name, func) if wrap is not None else func, source=source)
    return registry


def same_function(first: Callable[..., Any], second: Callable[..., Any]) -> bool:
    """One handler reached twice: the same object, or the same definition imported twice (an entry point's
    module and the same file given to --handlers)."""
    if first is second:
        return True
    code_a, code_b = getattr(first, "__code__", None), getattr(second, "__code__", None)
    if code_a is None or code_b is None:
        return False
    return (getattr(first, "__qualname__", None) == getattr(second, "__qualname__", None)
            and code_a.co_firstlineno == code_b.co_firstlineno
            and os.path.realpath(code_a.co_filename) == os.path.realpath(code_b.co_filename))


def import_handler_module(spec: str) -> ModuleType:
    """Import a dotted module or a `.py` file; a failure is a DefinitionError naming the spec."""
    path = Path(spec)
    try:
        if spec.endswith(".py") or path.is_file():
            if not path.is_file():
                raise DefinitionError(f"handler file {spec} does not exist")
            module_name = f"bpmn_runner_handlers_{abs(hash(str(path.resolve())))}"
            if module_name in sys.modules:
                return sys.modules[module_name]
            module_spec = importlib.util.spec_from_file_location(module_name, path)
            if module_spec is None or module_spec.loader is None:
                raise DefinitionError(f"{spec} is not a Python file that can be imported")
            module = importlib.util.module_from_spec(module_spec)
            sys.modules[module_name] = module
            try:
                module_spec.loader.exec_module(module)
            except BaseException:
                del sys.modules[module_name]
                raise
            return module
        return importlib.import_module(spec)
    except DefinitionError:
        raise
    except SyntaxError as exc:
        raise DefinitionError(f"handler module {spec} has a syntax error: {exc.msg}",
                              file=exc.filename or spec, line=exc.lineno) from exc
    except ModuleNotFoundError as exc:
        raise DefinitionError(f"handler module {spec!r} was not found ({exc}); pass a dotted module or a .py path") from exc
    except Exception as exc:
        raise DefinitionError(f"handler module {spec} failed to import: {type(exc).__name__}: {exc}") from exc


def _describe(func: Any) -> str:
    module = getattr(func, "__module__", "?")
    return f"{module}.{getattr(func, '__qualname__', getattr(func, '__name__', '?'))}"
