"""Reading a scenario's `when` steps and its `then` expectations."""

from __future__ import annotations

import difflib

from .file_nodes import NodeReader
from .model import Expect, Step, parse_duration
from .yaml_lines import Y, plain

_THEN_KEYS = {"status", "path", "exact_path", "not_passed", "end", "waits_at", "data", "calls", "error"}
_STEP_KEYS = {"complete", "message", "signal", "advance", "fire"}
_STATUSES = ("completed", "waiting", "failed")


class StepReader(NodeReader):
    """The steps and expectations of one scenario."""

    def step(self, y: Y) -> Step:
        if not y.is_map:
            raise self.error(y.line, "a step must be one of: advance: PT1H, message: {...}, signal: {...}, "
                                     "complete: {TASK: {...}}, fire: TIMER")
        body = dict(y.value)
        checks = {k: body.pop(k) for k in ("after", "at") if k in body}
        kinds = [k for k in body if k in _STEP_KEYS]
        unknown = [k for k in body if k not in _STEP_KEYS]
        if unknown:
            key = unknown[0]
            close = difflib.get_close_matches(key, sorted(_STEP_KEYS | {"after", "at"}), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise self.error(body[key].line, f"unknown step {key!r}{hint}; a step is one of: "
                                             f"{', '.join(sorted(_STEP_KEYS))}")
        if len(kinds) != 1:
            raise self.error(y.line, "each step does exactly one thing: advance, message, signal, complete or fire")
        kind = kinds[0]
        value = body[kind]
        step = Step(kind=kind, line=value.line)
        step.after = self.text(checks["after"], "after") if "after" in checks else ""
        step.at = self.text(checks["at"], "at") if "at" in checks else ""
        if kind == "advance":
            try:
                step.amount = parse_duration(str(value.value))
            except ValueError as exc:
                raise self.error(value.line, str(exc)) from exc
            step.text = f"advance {value.value}"
        elif kind == "fire":
            step.element = self.text(value, "fire")
            step.text = f"fire {step.element}"
        elif kind == "complete":
            if isinstance(value.value, str):
                step.element = value.value
            else:
                spec = value.value if value.is_map else None
                if not spec or len(spec) != 1:
                    raise self.error(value.line, "complete names one user task and its data, like "
                                                 "complete: {Activity_Approve: {approved: true}}")
                (step.element, data_y), = spec.items()
                step.data = self.mapping(data_y, f"the data for {step.element}")
            step.text = f"complete {step.element}"
        else:  # message | signal
            if isinstance(value.value, str):
                step.name = value.value
            else:
                allowed = {"name", "payload", "correlation", "after", "at"} if kind == "message" else \
                    {"name", "payload", "after", "at"}
                spec = self.keys(value, allowed, kind)
                if "name" not in spec:
                    raise self.error(value.line, f"a {kind} needs its name, like {kind}: {{name: OrderPaid}}")
                step.name = self.text(spec["name"], "name")
                step.payload = self.mapping(spec["payload"], "payload") if "payload" in spec else {}
                if "correlation" in spec:
                    step.correlation = self.mapping(spec["correlation"], "correlation")
                if "after" in spec:
                    step.after = self.text(spec["after"], "after")
                if "at" in spec:
                    step.at = self.text(spec["at"], "at")
            step.text = f"{kind} {step.name!r}"
        return step

    def then(self, y: Y) -> Expect:
        if y.value is None:
            return Expect(line=y.line)
        body = self.keys(y, _THEN_KEYS, "then")
        expect = Expect(line=y.line)
        if "status" in body:
            status = self.text(body["status"], "status")
            if status not in _STATUSES:
                raise self.error(body["status"].line, f"status must be one of {', '.join(_STATUSES)}, not {status!r}")
            expect.status = status
        for key, read in (("path", self.texts), ("exact_path", self.texts), ("not_passed", self.texts),
                          ("end", self.text), ("waits_at", self.texts)):  # element ids
            if key in body:
                setattr(expect, key, read(body[key], key))
        if "data" in body:
            expect.data = self.mapping(body["data"], "then data")
        if "calls" in body:
            if not body["calls"].is_map:
                raise self.error(body["calls"].line, "calls must map handler names to how often they were called")
            for name, count_y in body["calls"].value.items():
                if not isinstance(count_y.value, int) or isinstance(count_y.value, bool) or count_y.value < 0:
                    raise self.error(count_y.line, f"calls of {name} must be a whole number")
                expect.calls[name] = count_y.value
        if "error" in body:
            expect.error = str(plain(body["error"]))
        return expect
