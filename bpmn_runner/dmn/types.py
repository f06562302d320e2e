"""typeRef checking and conversion (DMN 1.5 10.3.2.9): item definitions, singleton list coercion, null otherwise."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Callable

from .. import feel
from .model import Definitions, ItemDefinition

NOT_CONFORMING = object()
"""Returned by `coerce` when a value does not conform: the caller records an error and uses null."""

_BUILTIN_ALIASES = {
    "number": "number", "string": "string", "boolean": "boolean", "date": "date", "time": "time",
    "date and time": "date and time", "datetime": "date and time", "dateTime": "date and time",
    "days and time duration": "days and time duration", "dayTimeDuration": "days and time duration",
    "years and months duration": "years and months duration", "yearMonthDuration": "years and months duration",
    "any": "Any", "Any": "Any", "context": "context", "list": "list", "function": "function", "range": "range",
    # Camunda 7 typeRefs (Java types)
    "integer": "number", "long": "number", "double": "number", "float": "number", "short": "number",
    "decimal": "number", "int": "number", "bool": "boolean",
}


def builtin_name(type_ref: str) -> str | None:
    """The FEEL type a built-in typeRef names, or None when it is not built in."""
    return _BUILTIN_ALIASES.get(type_ref) or _BUILTIN_ALIASES.get(type_ref.lower())


def _is_collection_type(type_ref: str) -> bool:
    return type_ref == "list" or type_ref.startswith("list<")


class TypeResolver:
    """Resolves typeRefs of one definitions (and the item definitions of its imports) and converts values."""

    def __init__(self, definitions: Definitions, imported: Callable[[str], Definitions | None]) -> None:
        self.definitions = definitions
        self.imported = imported
        self._depth = 0

    def item(self, type_ref: str) -> ItemDefinition | None:
        if type_ref in self.definitions.item_definitions:
            return self.definitions.item_definitions[type_ref]
        if "." in type_ref:
            prefix, _, rest = type_ref.rpartition(".")
            other = self.imported(prefix)
            if other is not None and rest in other.item_definitions:
                return other.item_definitions[rest]
        return None

    def coerce(self, value: Any, type_ref: str | None) -> Any:
        """The value converted to the type (singleton lists), or NOT_CONFORMING."""
        if value is None or not type_ref:
            return value
        item = self.item(type_ref)
        if item is not None:
            return self._coerce_item(value, item)
        return self._coerce_builtin(value, type_ref)

    def is_list_type(self, type_ref: str) -> bool:
        item = self.item(type_ref)
        if item is not None:
            return self._is_list_type(item)
        return _is_collection_type(builtin_name(type_ref) or type_ref) or (builtin_name(type_ref) == "Any")

    def coerce_strict(self, value: Any, type_ref: str | None) -> Any:
        """As `coerce`, but a list is never unwrapped to its single element (invocation results)."""
        if isinstance(value, list) and type_ref and not self.is_list_type(type_ref):
            return NOT_CONFORMING
        return self.coerce(value, type_ref)

    def is_instance(self, value: Any, type_ref: str) -> bool:
        """FEEL `instance of` an item definition: the structure and base types, no conversion, no allowed values."""
        item = self.item(type_ref)
        if item is None:
            name = builtin_name(type_ref) or type_ref
            return name == "Any" or _feel_conforms(value, name)
        return self._instance_of_item(value, item, collection=item.is_collection, depth=0)

    def _instance_of_item(self, value: Any, item: ItemDefinition, *, collection: bool, depth: int) -> bool:
        if depth > 50:
            return True
        if collection:
            return isinstance(value, list) and all(
                v is None or self._instance_of_item(v, item, collection=False, depth=depth + 1) for v in value)
        if item.function_parameters is not None:
            return isinstance(value, feel.FeelFunction)
        if item.components:
            return isinstance(value, dict) and all(
                c.name in value and (value[c.name] is None or self._instance_of_item(
                    value[c.name], c, collection=c.is_collection, depth=depth + 1)) for c in item.components)
        if item.type_ref:
            inner = self.item(item.type_ref)
            if inner is not None:
                return self._instance_of_item(value, inner, collection=inner.is_collection, depth=depth + 1)
            name = builtin_name(item.type_ref) or item.type_ref
            return name == "Any" or _feel_conforms(value, name)
        return True

    def conforms(self, value: Any, type_ref: str | None) -> bool:
        return self.coerce(value, type_ref) is not NOT_CONFORMING

    def _coerce_builtin(self, value: Any, type_ref: str) -> Any:
        name = builtin_name(type_ref)
        if name == "Any":
            return value
        if name is None and not type_ref.startswith(("list<", "context<", "range<", "function<")):
            return value        # an unknown type (e.g. a Java class name): not ours to check
        target = name or type_ref
        collection = _is_collection_type(target)
        if not collection and isinstance(value, list) and len(value) == 1 and target != "list":
            value = value[0]        # singleton list to its element, once (DMN 1.5 10.3.2.9.4)
        if target == "date and time" and isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            # DMN 1.5 10.3.2.9.4: a date becomes a date and time at UTC midnight
            value = dt.datetime(value.year, value.month, value.day, tzinfo=dt.timezone.utc)
        if collection and not isinstance(value, list):
            wrapped = [value]
            return wrapped if _feel_conforms(wrapped, target) else NOT_CONFORMING
        return value if _feel_conforms(value, target) else NOT_CONFORMING

    def _coerce_item(self, value: Any, item: ItemDefinition) -> Any:
        if self._depth > 50:
            return value
        self._depth += 1
        try:
            if item.is_collection:
                if not isinstance(value, list):
                    value = [value]
                out = []
                for element in value:
                    converted = self._coerce_element(element, item, in_collection=True)
                    if converted is NOT_CONFORMING:
                        return NOT_CONFORMING
                    out.append(converted)
                return out
            if isinstance(value, list) and len(value) == 1 and not self._is_list_type(item):
                value = value[0]
            return self._coerce_element(value, item, in_collection=False)
        finally:
            self._depth -= 1

    def _is_list_type(self, item: ItemDefinition) -> bool:
        if item.is_collection:
            return True
        if item.type_ref:
            inner = self.item(item.type_ref)
            return self._is_list_type(inner) if inner is not None else _is_collection_type(item.type_ref)
        return False

    def _coerce_element(self, value: Any, item: ItemDefinition, *, in_collection: bool) -> Any:
        if value is None:
            return None
        if item.function_parameters is not None:
            return value if isinstance(value, feel.FeelFunction) else NOT_CONFORMING
        if item.components:
            if not isinstance(value, dict):
                return NOT_CONFORMING
            out = dict(value)
            for component in item.components:
                if component.name not in value:
                    return NOT_CONFORMING        # DMN 1.5 10.3.2.9.1: a context type needs all its entries
                converted = self._coerce_item(value[component.name], component) \
                    if value[component.name] is not None else None
                if converted is NOT_CONFORMING:
                    return NOT_CONFORMING
                out[component.name] = converted
            return out
        if item.type_ref:
            inner = self.item(item.type_ref)
            if inner is not None:
                value = self._coerce_item(value, inner)
            else:
                value = self._coerce_builtin(value, item.type_ref)
            if value is NOT_CONFORMING:
                return value
        if item.allowed_values is not None and item.allowed_values.text.strip():
            try:
                tests = feel.compile_unary_tests(item.allowed_values.text)
                if not tests.matches(value, {}):
                    return NOT_CONFORMING
            except feel.FeelSyntaxError:
                return value
        return value


def _feel_conforms(value: Any, type_name: str) -> bool:
    try:
        return bool(feel.conforms(value, type_name))
    except Exception:  # noqa: BLE001 - an unknown type name in someone's model: be lenient
        return _fallback_conforms(value, type_name)


def _fallback_conforms(value: Any, type_name: str) -> bool:
    checks: dict[str, Callable[[Any], bool]] = {
        "number": lambda v: isinstance(v, Decimal) or (isinstance(v, (int, float)) and not isinstance(v, bool)),
        "string": lambda v: isinstance(v, str),
        "boolean": lambda v: isinstance(v, bool),
        "date": lambda v: isinstance(v, dt.date) and not isinstance(v, dt.datetime),
        "date and time": lambda v: isinstance(v, dt.datetime),
        "time": lambda v: isinstance(v, dt.time),
        "days and time duration": lambda v: isinstance(v, dt.timedelta),
        "years and months duration": lambda v: isinstance(v, feel.YearsMonthsDuration),
        "list": lambda v: isinstance(v, list),
        "context": lambda v: isinstance(v, dict),
    }
    check = checks.get(type_name)
    return check(value) if check else True
