"""Reading a located YAML node as a scenario file's text, list or mapping, with the line of the culprit."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from .model import ScenarioFileError
from .yaml_lines import Y, plain


class NodeReader:
    """Checks the located YAML against the format, raising ScenarioFileError with the line of the culprit."""

    def __init__(self, name: str, base: Path) -> None:
        self.name = name
        self.base = base

    def error(self, line: int, message: str) -> ScenarioFileError:
        return ScenarioFileError(message, file=self.name, line=line)

    def keys(self, y: Y, allowed: set[str], where: str) -> dict[str, Y]:
        if not y.is_map:
            raise self.error(y.line, f"{where} must be a mapping (key: value lines)")
        for key, value in y.value.items():
            if key not in allowed:
                close = difflib.get_close_matches(key, sorted(allowed), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else f"; allowed: {', '.join(sorted(allowed))}"
                raise self.error(value.line, f"unknown key {key!r} in {where}{hint}")
        return y.value

    def text(self, y: Y, where: str) -> str:
        if isinstance(y.value, (dict, list)) or y.value is None or isinstance(y.value, bool):
            raise self.error(y.line, f"{where} must be a text (an element id, a name)")
        return str(y.value)

    def texts(self, y: Y, where: str) -> list[str]:
        if y.is_list:
            return [self.text(item, f"each item of {where}") for item in y.value]
        return [self.text(y, where)]

    def mapping(self, y: Y, where: str) -> dict[str, Any]:
        if y.value is None:
            return {}
        if not y.is_map:
            raise self.error(y.line, f"{where} must be a mapping, like {{key: value}}")
        return plain(y)
