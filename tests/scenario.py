"""Helpers for scenario tests: write a small diagram, run it, and save, reload and resume at every wait."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from bpmn_runner import Engine, HandlerRegistry, load
from bpmn_runner.instance import Instance
from bpmn_runner.models import RunResult

NAMESPACES = (
    'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
    'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
    'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
    'xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"'
)


def definitions_xml(body: str, *, process_id: str = "p", extra: str = "") -> str:
    """Wrap process content (flow nodes and flows) in a definitions element, as a modeler would save it."""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions {NAMESPACES} id="Defs" '
            f'targetNamespace="http://bpmn.io/schema/bpmn">\n{extra}\n'
            f'<bpmn:process id="{process_id}" isExecutable="true">\n{body}\n</bpmn:process>\n</bpmn:definitions>\n')


def write(tmp_path: Path, body: str, name: str = "diagram.bpmn", **kwargs: Any) -> Path:
    path = tmp_path / name
    path.write_text(definitions_xml(body, **kwargs), encoding="utf-8")
    return path


def registry(**handlers: Callable[..., Any]) -> HandlerRegistry:
    """A registry from keyword arguments; underscores in names stand for dots (`erp_check` -> `erp.check`)."""
    reg = HandlerRegistry()
    for name, func in handlers.items():
        reg.register(name.replace("__", "-").replace("_", "."), func)
    return reg


class Scenario:
    """Runs an instance; every `resume_*` step first saves the state to JSON and restores it in a new engine."""

    def __init__(self, paths: list[Path] | Path, handlers: HandlerRegistry | None = None, *,
                 process_id: str | None = None, data: dict[str, Any] | None = None, **engine_options: Any) -> None:
        self.paths = [paths] if isinstance(paths, Path) else list(paths)
        self.handlers = handlers or HandlerRegistry()
        self.engine_options = engine_options
        self.definitions = load(self.paths, search_siblings=True)
        self.instance: Instance = Engine(self.handlers, **engine_options).start(self.definitions, process_id, data)
        self.reloads = 0
        self._earlier_path: list[str] = []
        self.result: RunResult = self.instance.run()
        self.check_round_trip()

    def check_round_trip(self) -> None:
        """Save, reload and resume once more: a finished instance must come back finished with the same data."""
        if self.result.status != "completed":
            return
        before = self.result  # stays the result the tests read
        self.reload()
        again = self.instance.run()
        assert again.status == "completed", f"after save and reload: {again.status} {again.error}"
        assert again.data == before.data, "the data changed in a save and reload"

    def reload(self) -> None:
        """Save to JSON text, load the definitions again, restore into a fresh engine."""
        state = json.loads(json.dumps(self.instance.state()))
        previous = self.instance
        self._earlier_path.extend(previous.session.path)
        definitions = load(self.paths, search_siblings=True)
        self.instance = Engine(self.handlers, **self.engine_options).restore(
            definitions, previous.process_id, state, previous.instance_id)
        self.reloads += 1

    def waiting_ids(self) -> list[str]:
        return [w.element_id for w in self.instance.waiting()]

    def complete(self, element_id: str, data: dict[str, Any] | None = None) -> RunResult:
        self.reload()
        task = next((w for w in self.instance.waiting() if w.element_id == element_id), None)
        assert task is not None, f"{element_id} is not waiting; waiting: {self.waiting_ids()}"
        self.instance.complete_user_task(task.task_id, data)
        self.result = self.instance.run()
        return self.result

    def message(self, name: str, payload: dict[str, Any] | None = None,
                correlations: dict[str, Any] | None = None) -> RunResult:
        self.reload()
        assert self.instance.send_message(name, payload, correlations), f"nothing waits for message {name!r}"
        self.result = self.instance.run()
        return self.result

    def signal(self, name: str, payload: dict[str, Any] | None = None) -> RunResult:
        self.reload()
        assert self.instance.send_signal(name, payload), f"nothing waits for signal {name!r}"
        self.result = self.instance.run()
        return self.result

    def fire_timers(self, element_id: str | None = None) -> RunResult:
        self.reload()
        assert self.instance.fire_timers(element_id) > 0, "no timer was waiting"
        self.result = self.instance.run()
        return self.result

    def resume(self) -> RunResult:
        self.reload()
        self.result = self.instance.run()
        return self.result

    @property
    def full_path(self) -> list[str]:
        """The path over all runs so far (each restore starts a new path record)."""
        return self._earlier_path + list(self.instance.session.path)
