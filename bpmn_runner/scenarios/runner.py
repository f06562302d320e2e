"""Run scenario files with the in-memory engine and a fake clock, and check what they expect. No pytest here:
`testing.py` and the CLI both use `ScenarioRunner`."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from .. import fakes
from ..coverage import Coverage, DiagramModel, sequence, trace
from ..environment import Environment
from ..errors import BpmnRunnerError, InvalidOperationError
from ..jsondata import json_safe
from ..registry import HandlerRegistry, build_registry
from .checks import check
from .files import find_scenario_files, load_scenario_file
from .model import MAX_STEPS, Fake, FakeClock, Scenario, ScenarioFile, ScenarioFileError, Step

__all__ = ["ScenarioResult", "ScenarioRun", "ScenarioRunner", "run_scenario_paths"]


# --- running ------------------------------------------------------------------------------------------------

@dataclass
class ScenarioResult:
    """How one scenario went: passed, or the problems found, with the path actually taken."""

    file: str
    name: str
    line: int
    passed: bool
    problems: list[str]
    status: str = ""
    path: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    ends: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    calls: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def title(self) -> str:
        return f"{self.file}: {self.name}"

    def explain(self) -> str:
        """The problems, then what actually happened: status, the path taken, where it waits, the error."""
        lines = [f"scenario {self.name!r} ({self.file}:{self.line}) failed:"]
        lines += [f"  - {p}" for p in self.problems]
        lines.append(f"  status: {self.status or 'not started'}")
        lines.append(f"  path taken: {sequence(self.path)}")
        if self.waiting:
            lines.append(f"  waits at: {', '.join(self.waiting)}")
        if self.error:
            lines.append(f"  error: {self.error}")
        return "\n".join(lines)


class ScenarioRunner:
    """Runs scenarios with the in-memory engine in `environment` (its settings and trust level; each scenario
    gets its own fake clock and handlers) and records what they covered. Definitions are loaded once per set of
    diagrams."""

    def __init__(self, coverage: Coverage | None = None, *, environment: Environment | None = None) -> None:
        self.coverage = coverage if coverage is not None else Coverage()
        self.environment = environment if environment is not None else _default_environment()
        self._definitions: dict[tuple[str, ...], Any] = {}

    def definitions(self, diagrams: list[Path]) -> Any:
        from ..definitions import load

        key = tuple(str(p.resolve()) for p in diagrams)
        if key not in self._definitions:
            self._definitions[key] = load(list(diagrams), search_siblings=True)
        return self._definitions[key]

    def run_file(self, scenario_file: ScenarioFile) -> list[ScenarioResult]:
        return [self.run(scenario_file, s) for s in scenario_file.scenarios]

    def run(self, scenario_file: ScenarioFile, scenario: Scenario, test: str | None = None) -> ScenarioResult:
        """Run one scenario; definition errors of the diagram propagate (exit 3), everything else is a result."""
        started = time.perf_counter()
        definitions = self.definitions(scenario_file.diagrams)
        paths = [d.path for d in definitions.documents if d.kind == "bpmn"]
        models = self.coverage.models(paths)
        outcome = ScenarioResult(file=scenario_file.name, name=scenario.name, line=scenario.line, passed=False,
                                 problems=[])
        try:
            result = self._run(definitions, scenario_file, scenario, models, outcome)
        finally:
            outcome.seconds = time.perf_counter() - started
        if result is not None:
            self.coverage.record(paths, result, test or f"{scenario_file.name}::{scenario.name}")
        outcome.passed = not outcome.problems
        return outcome

    def _run(self, definitions: Any, scenario_file: ScenarioFile, scenario: Scenario, models: list[DiagramModel],
             outcome: ScenarioResult) -> Any:
        from ..engine import Engine

        clock = FakeClock(scenario.now)
        calls: Counter[str] = Counter()
        registry = scenario_registry(scenario_file.handler_specs, scenario.fakes, calls)
        engine = Engine(environment=self.environment.changed(handlers=registry, clock=clock.now, timer_wait=0,
                                                             sleep=clock.sleep, max_steps=MAX_STEPS))
        try:
            instance = engine.start(definitions, scenario_file.process, json_safe(scenario.data))
        except BpmnRunnerError as exc:
            if isinstance(exc, ScenarioFileError):
                raise
            outcome.problems.append(f"the process could not start: {exc}")
            return None
        answers = {k: list(v) for k, v in scenario.user_tasks.items()}
        visits: Counter[str] = Counter()

        def settle() -> Any:
            result = instance.run()
            for _ in range(MAX_STEPS):
                if result.status != "waiting":
                    break
                ready = [w for w in result.waiting if w.kind in ("user", "manual") and w.element_id in answers]
                if not ready:
                    break
                task = ready[0]
                given = answers[task.element_id]
                data = given[min(visits[task.element_id], len(given) - 1)]
                visits[task.element_id] += 1
                instance.complete_user_task(task.task_id, json_safe(data))
                result = instance.run()
            return result

        result = settle()
        taken = trace(result, models)
        for number, step in enumerate(scenario.steps, start=1):
            where = f"step {number} ({step.text}, line {step.line})"
            waiting_ids = [w.element_id for w in result.waiting]
            if result.status != "waiting":
                outcome.problems.append(f"{where} could not happen: the instance has {result.status} already")
                break
            if step.after and step.after not in taken.nodes:
                outcome.problems.append(f"{where} should come after {step.after}, which has not been reached "
                                        f"(it waits at {', '.join(waiting_ids) or 'nothing'})")
                break
            if step.at and step.at not in waiting_ids:
                outcome.problems.append(f"{where} should happen while the instance waits at {step.at}; it waits "
                                        f"at {', '.join(waiting_ids) or 'nothing'}")
                break
            problem = self._apply(instance, step, clock, result)
            if problem:
                outcome.problems.append(f"{where}: {problem}")
                break
            result = settle()
            taken = trace(result, models)
        outcome.status = result.status
        outcome.path = taken.path
        outcome.waiting = [w.element_id for w in result.waiting]
        outcome.ends = [e for e in taken.path if any(m.kind(e) == "endEvent" for m in models)]
        outcome.data = result.data
        outcome.error = result.error
        outcome.calls = dict(calls)
        if not outcome.problems:
            outcome.problems.extend(check(scenario.expect, outcome, taken))
        return result

    @staticmethod
    def _apply(instance: Any, step: Step, clock: FakeClock, result: Any) -> str | None:
        waiting_ids = [w.element_id for w in result.waiting]
        if step.kind == "advance":
            clock.advance(step.amount)
            return None
        if step.kind == "fire":
            if instance.fire_timers(step.element) == 0:
                return f"no timer {step.element} is waiting (it waits at {', '.join(waiting_ids) or 'nothing'})"
            return None
        if step.kind == "complete":
            task = next((w for w in result.waiting if w.element_id == step.element and w.kind in ("user", "manual")),
                        None)
            if task is None:
                return (f"user task {step.element} is not waiting; it waits at "
                        f"{', '.join(waiting_ids) or 'nothing'}")
            instance.complete_user_task(task.task_id, json_safe(step.data))
            return None
        if step.kind == "message":
            if not instance.send_message(step.name, step.payload, step.correlation):
                waits = [f"{w.element_id} ({w.kind} {w.detail})" if w.detail else w.element_id for w in result.waiting]
                return f"nothing waits for message {step.name!r}; it waits at {', '.join(waits) or 'nothing'}"
            return None
        if not instance.send_signal(step.name, step.payload):
            return f"nothing waits for signal {step.name!r}; it waits at {', '.join(waiting_ids) or 'nothing'}"
        return None


def scenario_registry(specs: Iterable[str], fakes: dict[str, Fake], calls: Counter[str]) -> HandlerRegistry:
    """Real handlers from modules or files, each faked name replaced by its fake; every call is counted."""
    def counting(name: str, func: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def call(service_call: Any) -> Any:
            calls[name] += 1
            return func(service_call)
        return call
    overrides = {name: (fake_function(fake), f"scenario fake {name}") for name, fake in fakes.items()}
    return build_registry(specs, entry_points=False, overrides=overrides, wrap=counting)


def fake_function(fake: Fake) -> Callable[[Any], Any]:
    """A scenario file's fake (its outcomes, one per call, the last repeating) as a handler."""
    def one(outcome: Any) -> Callable[[Any], Any]:
        if outcome.raises is not None:
            return fakes.raising(*outcome.raises)
        if outcome.fails is not None:
            return fakes.failing(outcome.fails)
        return fakes.returning(outcome.returns)
    return fakes.in_turn([one(o) for o in fake.outcomes])


def _default_environment() -> Environment:
    from ..environment import build_environment
    return build_environment(entry_points=False)


@dataclass
class ScenarioRun:
    """The results of every scenario of some files, what they covered, and how long they took."""

    results: list[ScenarioResult]
    coverage: Coverage
    seconds: float


def run_scenario_paths(paths: list[Path], environment: Environment, *,
                       script_unit_tests: bool = False) -> ScenarioRun:
    """Find the scenario files in `paths` (and, with `script_unit_tests`, the `spiffworkflow:unitTests` stored in
    the diagrams), check every file before anything runs, then run them all."""
    files = find_scenario_files(list(paths))
    unit_tests: list[Any] = []
    if script_unit_tests:
        from ..script_unit_tests import find_script_unit_tests
        unit_tests = find_script_unit_tests(list(paths))
    if not files and not unit_tests:
        what = "scenario files (*.scenario.yaml) or script unit tests" if script_unit_tests else \
            "scenario files (*.scenario.yaml)"
        raise InvalidOperationError(f"no {what} in " + ", ".join(map(str, paths)))
    loaded = [load_scenario_file(f) for f in files]
    runner = ScenarioRunner(environment=environment)
    started = time.perf_counter()
    results = [r for scenario_file in loaded for r in runner.run_file(scenario_file)]
    if unit_tests:
        from ..script_unit_tests import run_script_unit_test
        results += [run_script_unit_test(t, trusted=environment.trust_scripts) for t in unit_tests]
    return ScenarioRun(results, runner.coverage, time.perf_counter() - started)
