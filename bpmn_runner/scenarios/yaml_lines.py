"""YAML with line numbers, for scenario files: every value knows the line it was written on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from .model import ScenarioFileError

# --- YAML with line numbers ---------------------------------------------------------------------------------

@dataclass
class Y:
    """A YAML value with the line it starts on: `value` is a dict of Y, a list of Y, or a plain scalar."""

    value: Any
    line: int

    @property
    def is_map(self) -> bool:
        return isinstance(self.value, dict)

    @property
    def is_list(self) -> bool:
        return isinstance(self.value, list)


def plain(y: Y) -> Any:
    """The plain Python value (dicts, lists, scalars) of a located YAML value."""
    if isinstance(y.value, dict):
        return {k: plain(v) for k, v in y.value.items()}
    if isinstance(y.value, list):
        return [plain(v) for v in y.value]
    return y.value


def _compose(text: str, name: str) -> Y:
    import yaml  # imported on first use: the pytest plugin stays light for projects that have no scenarios

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = exc.problem or "malformed YAML"
        if exc.context:
            started = exc.context_mark.line + 1 if exc.context_mark is not None else line
            problem = f"{exc.context}{f' (from line {started})' if started != line else ''}: {problem}"
        raise ScenarioFileError(f"not valid YAML: {problem}", file=name, line=line) from exc
    except yaml.YAMLError as exc:
        raise ScenarioFileError(f"not valid YAML: {exc}", file=name, line=1) from exc
    if node is None:
        raise ScenarioFileError("the file is empty; see the scenario format in the README", file=name, line=1)
    constructor = yaml.SafeLoader("")

    def convert(node: Any, depth: int = 0) -> Y:
        line = node.start_mark.line + 1
        if depth > 100:
            raise ScenarioFileError("nested too deeply", file=name, line=line)
        if isinstance(node, yaml.MappingNode):
            constructor.flatten_mapping(node)  # merge keys (<<: *anchor)
            out: dict[str, Y] = {}
            first: dict[str, int] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise ScenarioFileError("a key must be a plain word, not a list or mapping", file=name,
                                            line=key_node.start_mark.line + 1)
                key = constructor.construct_object(key_node)
                key = key.isoformat() if isinstance(key, (date, datetime)) else str(key)
                if key in out:
                    raise ScenarioFileError(f"duplicate key {key!r} (first on line {first[key]})", file=name,
                                            line=key_node.start_mark.line + 1)
                first[key] = key_node.start_mark.line + 1
                out[key] = convert(value_node, depth + 1)
            return Y(out, line)
        if isinstance(node, yaml.SequenceNode):
            return Y([convert(item, depth + 1) for item in node.value], line)
        value = constructor.construct_object(node)
        if isinstance(value, (date, datetime)):
            value = value.isoformat()
        elif isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        return Y(value, line)

    return convert(node)
