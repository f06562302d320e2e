"""Scenario files: analysts write what a diagram must do in YAML, beside the diagram, without code.

A `*.scenario.yaml` file names a diagram and holds one scenario (the keys below at the top level) or several
(under `scenarios:`). Top-level `given` is shared by every scenario of the file (a scenario's own `given` wins,
and its data is merged into the shared data key by key)::

    diagram: order_fulfillment.bpmn          # default: the file's name up to its first dot, plus .bpmn
    process: order_fulfillment               # only when the diagram holds several executable processes
    handlers: order_handlers.py              # real handlers (.py beside this file, or a dotted module); optional
    scenarios:
      - name: declined card
        given:
          data: {order: {card: "4000000000000002"}}      # or data_file: order.data.json
          now: 2025-01-06T09:00:00Z                      # the clock at the start (this is the default)
          handlers:                                      # fakes: replace the real handler of that name
            payment.charge: {raises: {code: PAYMENT_DECLINED, message: card declined}}
            erp.check-stock: {returns: {inStock: true}}  # a list of outcomes: one per call, the last repeats
          user_tasks:                                    # completed whenever the instance waits there
            Activity_Approve: {approved: true}           # a list: one answer per visit, the last repeats
        when:                                            # in order, each once the instance waits
          - advance: PT1S                                # move the clock (ISO 8601 duration or seconds)
          - message: {name: PaymentReceived, payload: {paid: true}, correlation: {orderId: A-1}}
          - signal: {name: Cancel}
          - complete: {Activity_Review: {ok: true}}      # complete one user task now
          - fire: Event_Reminder                         # fire a timer now, whatever the clock says
        then:
          status: completed                              # default: completed (waiting with waits_at)
          path: [Activity_ChargePayment, Event_CardDeclined, Event_OrderCancelled]
          end: Event_OrderCancelled
          data: {orderStatus: cancelled}                 # a subset: other keys may exist
          calls: {crm.notify-declined: 1}

`path` is a subsequence: those elements were reached in that order, others may come between; `exact_path`
lists the whole path. Any `when` step may say `after: ELEMENT` (the instance has reached it) or `at: ELEMENT`
(the instance waits there) to check it is applied at the right moment.

Runs use the in-memory engine with a fake clock (timers wait until `advance` moves it past their due time).
A malformed file is a `ScenarioFileError` with the file and line. This module reads them; `runner.py` runs
them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from ..errors import InvalidOperationError
from .file_steps import StepReader
from .model import DEFAULT_NOW, Expect, Fake, Outcome, Scenario, ScenarioFile, ScenarioFileError, Step
from .yaml_lines import Y, _compose, plain

__all__ = ["SUFFIXES", "find_scenario_files", "load_scenario_file"]

SUFFIXES = (".scenario.yaml", ".scenario.yml")
_SKIPPED = {"node_modules", "__pycache__", "venv", "site-packages"}


_FILE_KEYS = {"diagram", "diagrams", "process", "handlers", "given", "scenarios", "name", "when", "then",
              "description"}
_SCENARIO_KEYS = {"name", "given", "when", "then", "description"}
_GIVEN_KEYS = {"data", "data_file", "now", "handlers", "user_tasks"}


class _Reader(StepReader):
    """A whole scenario file: its diagrams, shared `given`, fakes and scenarios."""

    def file(self, y: Y, path: Path) -> ScenarioFile:
        top = self.keys(y, _FILE_KEYS, "the file")
        diagrams = self.diagrams(top, path)
        process = self.text(top["process"], "process") if "process" in top else None
        handler_specs: list[str] = []
        if "handlers" in top:
            for spec_y in (top["handlers"].value if top["handlers"].is_list else [top["handlers"]]):
                spec = self.text(spec_y, "handlers")
                if spec.endswith(".py") or "/" in spec or "\\" in spec:
                    resolved = (self.base / spec)
                    if not resolved.is_file():
                        raise self.error(spec_y.line, f"handler file {spec} not found (looked at {resolved})")
                    spec = str(resolved)
                handler_specs.append(spec)
        shared = self.given(top["given"], {}) if "given" in top else _Given()
        scenarios: list[Scenario] = []
        if "scenarios" in top:
            for key in ("name", "when", "then"):
                if key in top:
                    raise self.error(top[key].line, f"{key!r} belongs inside one of the scenarios: this file lists "
                                                    f"them under 'scenarios:'")
            items = top["scenarios"]
            if not items.is_list or not items.value:
                raise self.error(items.line, "scenarios must be a list of scenarios, each starting with '- name:'")
            for item in items.value:
                scenarios.append(self.scenario(item, shared, path))
        else:
            single = {k: v for k, v in top.items() if k in _SCENARIO_KEYS - {"given"}}
            scenarios.append(self.scenario(Y(single, y.line), shared, path))
        seen: dict[str, int] = {}
        for scenario in scenarios:
            if scenario.name in seen:
                raise self.error(scenario.line, f"two scenarios are named {scenario.name!r} (the first on line "
                                                f"{seen[scenario.name]}); give each its own name")
            seen[scenario.name] = scenario.line
        return ScenarioFile(path=path, name=self.name, diagrams=diagrams, process=process,
                            handler_specs=handler_specs, scenarios=scenarios)

    def diagrams(self, top: dict[str, Y], path: Path) -> list[Path]:
        if "diagram" in top and "diagrams" in top:
            raise self.error(top["diagrams"].line, "give either 'diagram' or 'diagrams', not both")
        given = top.get("diagram") or top.get("diagrams")
        if given is None:
            stem = path.name
            for suffix in SUFFIXES:
                if stem.endswith(suffix):
                    stem = stem[: -len(suffix)]
            parts = stem.split(".")
            for n in range(len(parts), 0, -1):
                candidate = path.parent / (".".join(parts[:n]) + ".bpmn")
                if candidate.is_file():
                    return [candidate]
            raise self.error(1, f"no diagram named: add 'diagram: NAME.bpmn' (no {parts[0]}.bpmn beside this file)")
        out = []
        for item in (given.value if given.is_list else [given]):
            name = self.text(item, "diagram")
            candidate = self.base / name
            if not candidate.exists():
                raise self.error(item.line, f"diagram {name} not found (looked at {candidate})")
            out.append(candidate)
        return out

    def given(self, y: Y, shared: "_Given | dict") -> "_Given":
        base = shared if isinstance(shared, _Given) else _Given()
        out = _Given(data=json.loads(json.dumps(base.data)), now=base.now, fakes=dict(base.fakes),
                     user_tasks=dict(base.user_tasks))
        if y.value is None:
            return out
        given = self.keys(y, _GIVEN_KEYS, "given")
        if "data_file" in given:
            file_y = given["data_file"]
            data_path = self.base / self.text(file_y, "data_file")
            try:
                loaded = json.loads(data_path.read_text(encoding="utf-8"))
            except OSError as exc:
                raise self.error(file_y.line, f"cannot read data_file {data_path}: {exc.strerror or exc}") from exc
            except json.JSONDecodeError as exc:
                raise self.error(file_y.line, f"data_file {data_path} is not JSON: {exc.msg} (line {exc.lineno})"
                                 ) from exc
            if not isinstance(loaded, dict):
                raise self.error(file_y.line, f"data_file {data_path} must hold a JSON object")
            out.data = _deep_merge(out.data, loaded)
        if "data" in given:
            out.data = _deep_merge(out.data, self.mapping(given["data"], "given data"))
        if "now" in given:
            now_y = given["now"]
            try:
                now = datetime.fromisoformat(str(now_y.value).replace("Z", "+00:00"))
            except ValueError as exc:
                raise self.error(now_y.line, f"now must be a date and time like 2025-01-06T09:00:00Z, "
                                             f"not {now_y.value!r}") from exc
            out.now = now if now.tzinfo else now.replace(tzinfo=timezone.utc)
        if "handlers" in given:
            handlers_y = given["handlers"]
            if not handlers_y.is_map:
                raise self.error(handlers_y.line, "given handlers must map each handler name to what it does, "
                                                  "like  payment.charge: {returns: {chargeId: CH-1}}")
            for name, fake_y in handlers_y.value.items():
                out.fakes[name] = self.fake(name, fake_y)
        if "user_tasks" in given:
            tasks_y = given["user_tasks"]
            if not tasks_y.is_map:
                raise self.error(tasks_y.line, "user_tasks must map each user task id to the data it is completed "
                                               "with, like  Activity_Approve: {approved: true}")
            for element, answer_y in tasks_y.value.items():
                answers = answer_y.value if answer_y.is_list else [answer_y]
                if not answers:
                    raise self.error(answer_y.line, f"user task {element}: give the data it is completed with")
                out.user_tasks[element] = [self.mapping(a, f"the data for user task {element}") for a in answers]
        return out

    def fake(self, name: str, y: Y) -> Fake:
        items = y.value if y.is_list else [y]
        if not items:
            raise self.error(y.line, f"handler {name}: give at least one outcome (returns, raises or fails)")
        outcomes = []
        for item in items:
            spec = self.keys(item, {"returns", "raises", "fails"}, f"handler {name}") if item.value is not None \
                else {}
            if len(spec) != 1:
                raise self.error(item.line, f"handler {name}: give exactly one of returns, raises or fails")
            if "returns" in spec:
                value = plain(spec["returns"])
                if value is not None and not isinstance(value, dict):
                    raise self.error(spec["returns"].line, f"handler {name}: returns must be a mapping of the "
                                                           f"variables it sets (or nothing)")
                outcomes.append(Outcome(item.line, returns=value))
            elif "raises" in spec:
                raises_y = spec["raises"]
                if isinstance(raises_y.value, str):
                    outcomes.append(Outcome(item.line, raises=(raises_y.value, "", {})))
                    continue
                raised = self.keys(raises_y, {"code", "message", "data"}, f"handler {name} raises")
                if "code" not in raised:
                    raise self.error(raises_y.line, f"handler {name}: raises needs the BPMN error code, like "
                                                    f"{{code: PAYMENT_DECLINED, message: card declined}}")
                message = str(plain(raised["message"])) if "message" in raised else ""
                data = self.mapping(raised["data"], "raises data") if "data" in raised else {}
                outcomes.append(Outcome(item.line, raises=(self.text(raised["code"], "code"), message, data)))
            else:
                outcomes.append(Outcome(item.line, fails=str(plain(spec["fails"]) or "failed")))
        return Fake(name, outcomes, y.line)

    def scenario(self, y: Y, shared: "_Given", path: Path) -> Scenario:
        body = self.keys(y, _SCENARIO_KEYS, "a scenario")
        name = self.text(body["name"], "name") if "name" in body else path.name.split(".scenario.")[0]
        given = self.given(body["given"], shared) if "given" in body else self.given(Y(None, y.line), shared)
        steps: list[Step] = []
        if "when" in body and body["when"].value is not None:
            when = body["when"]
            if not when.is_list:
                raise self.error(when.line, "when must be a list of steps, each starting with '- ' "
                                            "(advance, message, signal, complete or fire)")
            steps = [self.step(item) for item in when.value]
        expect = self.then(body["then"]) if "then" in body else Expect(line=y.line)
        return Scenario(name=name, line=y.line, data=given.data, now=given.now, fakes=given.fakes,
                        user_tasks=given.user_tasks, steps=steps, expect=expect)


@dataclass
class _Given:
    data: dict[str, Any] = field(default_factory=dict)
    now: datetime = DEFAULT_NOW
    fakes: dict[str, Fake] = field(default_factory=dict)
    user_tasks: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def load_scenario_file(path: str | Path) -> ScenarioFile:
    """Read and check one scenario file; a problem is a ScenarioFileError naming the file and line."""
    from ..loader.documents import display_name

    path = Path(path)
    name = display_name(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioFileError("not UTF-8 text", file=name, line=1) from exc
    except OSError as exc:
        raise ScenarioFileError(f"cannot read: {exc.strerror or exc}", file=name) from exc
    return _Reader(name, path.parent).file(_compose(text, name), path)


def find_scenario_files(paths: Iterable[str | Path]) -> list[Path]:
    """Scenario files given directly, found in folders (recursively), or beside a given .bpmn file."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            out.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(SUFFIXES)
                              and not any(part.startswith(".") or part in _SKIPPED
                                          for part in p.relative_to(path).parts[:-1])))
        elif path.is_file() and path.name.endswith(SUFFIXES):
            out.append(path)
        elif path.is_file() and path.suffix.lower() == ".bpmn":
            out.extend(sorted(p for p in path.parent.iterdir() if p.is_file() and p.name.endswith(SUFFIXES)
                              and p.name.split(".")[0] == path.stem))
        elif path.exists():
            raise InvalidOperationError(f"{raw} is not a scenario file (*.scenario.yaml), a .bpmn file or a folder")
        else:
            raise InvalidOperationError(f"{raw}: no such file or folder")
    unique: list[Path] = []
    for path in out:
        if path.resolve() not in {p.resolve() for p in unique}:
            unique.append(path)
    return unique
