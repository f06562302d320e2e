"""Process data to FEEL input values for a decision, parsed by the typeRefs of the model's input data."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping

from .. import feel
from .evaluation import DecisionModel
from .model import ItemDefinition
from .types import TypeResolver, builtin_name

_PARSERS = {"date": "date", "date and time": "date and time", "time": "time",
            "days and time duration": "duration", "years and months duration": "duration"}


def convert_inputs(model: DecisionModel, data: Mapping[str, Any], *, parse_strings: bool = True) -> dict[str, Any]:
    """Native or JSON values to FEEL values; with `parse_strings`, text becomes a date, time or duration where the
    input data's typeRef (or a component of its item definition) says so."""
    out: dict[str, Any] = {}
    types = {item.name: (defs, item.variable.type_ref) for defs in reversed(model.definitions)
             for item in defs.inputs.values()}
    for name, value in data.items():
        converted = feel.to_feel(value)
        defs, type_ref = types.get(name, (model.main, None))
        if parse_strings and type_ref:
            converted = _parse_by_type(model.resolver(defs), converted, type_ref, 0)
        out[name] = converted
    return out


def _parse_by_type(resolver: TypeResolver, value: Any, type_ref: str, depth: int) -> Any:
    if value is None or depth > 20:
        return value
    base = builtin_name(type_ref)
    if base is not None:
        if isinstance(value, str) and base in _PARSERS:
            parsed = feel.evaluate(f"{_PARSERS[base]}(x)", {"x": value})
            return parsed if parsed is not None else value
        return value
    item = resolver.item(type_ref)
    return value if item is None else _parse_item(resolver, value, item, depth + 1)


def _parse_item(resolver: TypeResolver, value: Any, item: ItemDefinition, depth: int) -> Any:
    if depth > 20:
        return value
    if item.is_collection and isinstance(value, list):
        element = replace(item, is_collection=False)
        return [_parse_item(resolver, v, element, depth + 1) for v in value]
    if item.components and isinstance(value, dict):
        out = dict(value)
        for component in item.components:
            if component.name in out:
                out[component.name] = _parse_item(resolver, out[component.name], component, depth + 1)
        return out
    if item.type_ref:
        return _parse_by_type(resolver, value, item.type_ref, depth + 1)
    return value
