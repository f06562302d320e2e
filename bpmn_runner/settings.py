"""`[tool.bpmn-runner]` in the nearest pyproject.toml: the project's settings, read without loading the engine."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InvalidOperationError

__all__ = ["COMMIT_MODES", "SETTINGS_TABLE", "Settings", "check_commit_mode", "find_pyproject", "load_settings"]

SETTINGS_TABLE = "[tool.bpmn-runner]"
# Where a durable instance commits: at wait states and async boundaries (Camunda 7), or after every service task.
COMMIT_MODES = ("wait-states", "each-task")


@dataclass(frozen=True)
class Settings:
    """What `[tool.bpmn-runner]` in the nearest pyproject.toml says (everything off when there is none)."""

    disable: frozenset[str] = field(default_factory=frozenset)
    trust_scripts: bool = False
    source: Path | None = None
    spiffarena: dict[str, str] = field(default_factory=dict)  # [tool.bpmn-runner.spiffarena]: env, frontend_url, ...
    commit: str = "wait-states"  # one of COMMIT_MODES
    bridge: dict[str, Any] = field(default_factory=dict)      # [tool.bpmn-runner.bridge]: read by bridge/config.py

    @property
    def disable_where(self) -> str:
        """Where `lint.disable` was read, for a message about a rule id in it."""
        return f"{self.source} {SETTINGS_TABLE} lint.disable"


def check_commit_mode(value: object, where: str = "--commit") -> str:
    """The commit mode named, or one line saying which ones there are."""
    if value not in COMMIT_MODES:
        raise InvalidOperationError(f"{where} must be one of {', '.join(map(repr, COMMIT_MODES))}, not {value!r}")
    return str(value)


def find_pyproject(start: Path | None = None) -> Path | None:
    """The nearest pyproject.toml in `start` (default: the working directory) or a folder above it."""
    try:
        folder = (start or Path.cwd()).resolve()
    except OSError:  # the working directory was removed
        return None
    for candidate in (folder, *folder.parents):
        path = candidate / "pyproject.toml"
        if path.is_file():
            return path
    return None


def load_settings(start: Path | None = None) -> Settings:
    """Read `[tool.bpmn-runner]`: `trust_scripts = true`, `commit = "each-task"` and
    `lint.disable = ["rule-id", ...]`.

    The rule ids are checked by the linter (`lint.check_rule_ids`), which knows them; reading settings stays cheap.
    """
    path = find_pyproject(start)
    if path is None:
        return Settings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InvalidOperationError(f"{path}: cannot read the settings in it: {exc}") from exc
    tool = data.get("tool", {})
    table = tool.get("bpmn-runner", {}) if isinstance(tool, dict) else {}
    if not isinstance(table, dict):
        raise InvalidOperationError(f"{path}: {SETTINGS_TABLE} must be a table")
    lint_table = table.get("lint", {})
    disable = lint_table.get("disable", []) if isinstance(lint_table, dict) else None
    if not isinstance(disable, list) or not all(isinstance(r, str) for r in disable):
        raise InvalidOperationError(f'{path}: {SETTINGS_TABLE} lint.disable must be a list of rule ids, like '
                                    f'lint.disable = ["no-implicit-split"]')
    trust = table.get("trust_scripts", False)
    if not isinstance(trust, bool):
        raise InvalidOperationError(f"{path}: {SETTINGS_TABLE} trust_scripts must be true or false")
    spiffarena = table.get("spiffarena", {})
    if not isinstance(spiffarena, dict) or not all(isinstance(v, str) for v in spiffarena.values()):
        raise InvalidOperationError(f'{path}: {SETTINGS_TABLE} spiffarena must be a table of text values, like '
                                    f'spiffarena = {{ env = "dev", frontend_url = "https://spiff.example" }}')
    commit = check_commit_mode(table.get("commit", "wait-states"), f"{path}: {SETTINGS_TABLE} commit")
    bridge = table.get("bridge", {})
    if not isinstance(bridge, dict):
        raise InvalidOperationError(f"{path}: {SETTINGS_TABLE} bridge must be a table ([tool.bpmn-runner.bridge])")
    return Settings(frozenset(disable), trust, path, dict(spiffarena), commit, dict(bridge))
