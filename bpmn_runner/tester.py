"""What the pytest fixtures hand to tests: fake and real `Handlers`, the `BpmnTester` that starts instances, and
the `ProcessRun` whose business assertions show the path taken. Imported only when a fixture is used."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from .errors import ProcessAssertionError

if TYPE_CHECKING:  # pragma: no cover
    from .definitions import Definitions
    from .models import RunResult, ServiceCall
    from .registry import HandlerRegistry
    from .scenarios import FakeClock

__all__ = ["BpmnTester", "Handlers", "ProcessAssertionError", "ProcessRun"]


class Handlers:
    """Handlers for a test: fakes that return, raise a BPMN error or fail, and real ones; all calls recorded."""

    def __init__(self) -> None:
        self._funcs: dict[str, Callable[[Any], Any]] = {}
        self._sources: dict[str, str] = {}
        self._calls: dict[str, list[ServiceCall]] = {}

    def register(self, name: str, func: Callable[[Any], Any]) -> "Handlers":
        """Use `func(call)` for the handler `name` (replaces a real or fake one registered before)."""
        self._funcs[name] = func
        self._sources[name] = f"test function {getattr(func, '__name__', '?')}"
        return self

    def returns(self, name: str, result: dict[str, Any] | None = None, **values: Any) -> "Handlers":
        """A fake that returns these variables on every call."""
        from .fakes import returning
        merged = {**(result or {}), **values}
        return self.register(name, returning(merged or None))

    def raises(self, name: str, code: str, message: str = "", data: dict[str, Any] | None = None) -> "Handlers":
        """A fake that raises the BPMN error `code` (for an error boundary event or event subprocess)."""
        from .fakes import raising
        return self.register(name, raising(code, message, data))

    def fails(self, name: str, message: str = "failed") -> "Handlers":
        """A fake that fails like a broken system (not a BPMN error): the task fails."""
        from .fakes import failing
        return self.register(name, failing(message))

    def load(self, spec: str | Path) -> "Handlers":
        """Real handlers from a dotted module or a .py file; fakes registered later replace single ones."""
        from .registry import build_registry
        for name, registered in build_registry([str(spec)], entry_points=False).items():
            self._funcs[name] = registered.func
            self._sources[name] = registered.source
        return self

    def calls(self, name: str) -> "list[ServiceCall]":
        """The calls of the handler `name` so far (`.params`, `.data`, `.element_id`, ...)."""
        return list(self._calls.get(name, []))

    def called(self, name: str) -> int:
        return len(self._calls.get(name, []))

    def registry(self) -> "HandlerRegistry":
        from .registry import build_registry
        overrides = {name: (func, self._sources.get(name, "")) for name, func in self._funcs.items()}
        return build_registry(entry_points=False, overrides=overrides, wrap=self._recording)

    def _recording(self, name: str, func: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def call(service_call: Any) -> Any:
            self._calls.setdefault(name, []).append(service_call)
            return func(service_call)
        return call


class BpmnTester:
    """The `bpmn` fixture: loads diagrams (relative to the test file or the working directory) and starts runs."""

    def __init__(self, handlers: Handlers, clock: "FakeClock", state: Any, test: str, base: Path) -> None:
        """`state` is the session's: its `coverage` records runs, its `environment` holds the settings."""
        self.handlers = handlers
        self.clock = clock
        self._state = state
        self.test = test
        self._base = base

    def _resolve(self, path: str | Path) -> Path:
        candidate = Path(path)
        if not candidate.is_absolute() and not candidate.exists() and (self._base / candidate).exists():
            return self._base / candidate
        return candidate

    def load(self, *paths: str | Path) -> "Definitions":
        """Load diagrams (called processes and decisions beside them are found too); they count for coverage
        even if no test starts them."""
        from .definitions import load
        definitions = load([self._resolve(p) for p in paths], search_siblings=True)
        self._state.coverage.models([d.path for d in definitions.documents if d.kind == "bpmn"])
        return definitions

    def start(self, *paths: "str | Path | Definitions", data: dict[str, Any] | None = None,
              process: str | None = None, max_steps: int = 10_000) -> "ProcessRun":
        """Start an instance with the fixture's handlers and clock and run it until it ends or waits."""
        from .definitions import Definitions
        from .engine import Engine
        if len(paths) == 1 and isinstance(paths[0], Definitions):
            definitions = paths[0]
            self._state.coverage.models([d.path for d in definitions.documents if d.kind == "bpmn"])
        else:
            definitions = self.load(*paths)  # type: ignore[arg-type]
        environment = self._state.environment.changed(handlers=self.handlers.registry(), clock=self.clock.now,
                                                      timer_wait=0, sleep=self.clock.sleep, max_steps=max_steps)
        engine = Engine(environment=environment)
        instance = engine.start(definitions, process, data)
        return ProcessRun(instance, definitions, self)


class ProcessRun:
    """One instance under test. Every action runs the instance until it ends or waits again."""

    def __init__(self, instance: Any, definitions: "Definitions", tester: BpmnTester) -> None:
        self.instance = instance
        self.definitions = definitions
        self._tester = tester
        self._paths = [d.path for d in definitions.documents if d.kind == "bpmn"]
        self.result: RunResult = None  # type: ignore[assignment]
        self.path: list[str] = []
        self.flows: list[str] = []
        self.run()

    # ----- what happened --------------------------------------------------------------------------------------

    @property
    def status(self) -> str:
        return self.result.status

    @property
    def data(self) -> dict[str, Any]:
        return self.result.data

    @property
    def waiting(self) -> list[str]:
        return [w.element_id for w in self.result.waiting]

    @property
    def ends(self) -> list[str]:
        models = self._tester._state.coverage.models(self._paths)
        return [e for e in self.path if any(m.kind(e) == "endEvent" for m in models)]

    # ----- actions ------------------------------------------------------------------------------------------

    def run(self) -> "ProcessRun":
        """Run until the instance ends or waits (timers fire when the fake clock is past them)."""
        self.result = self.instance.run()
        taken = self._tester._state.coverage.record(self._paths, self.result, self._tester.test)
        self.path = taken.path
        self.flows = list(self.result.flows)
        return self

    def complete(self, element_id: str, data: dict[str, Any] | None = None) -> "ProcessRun":
        """Complete the user (or manual) task waiting at `element_id` with `data`."""
        __tracebackhide__ = True
        task = next((w for w in self.instance.waiting() if w.element_id == element_id
                     and w.kind in ("user", "manual")), None)
        if task is None:
            self._fail(f"user task {element_id} is not waiting, so it cannot be completed")
        self.instance.complete_user_task(task.task_id, data or {})
        return self.run()

    def message(self, name: str, payload: dict[str, Any] | None = None,
                correlation: dict[str, Any] | None = None) -> "ProcessRun":
        """Deliver the message `name`; fails when nothing waits for it."""
        __tracebackhide__ = True
        if not self.instance.send_message(name, payload or {}, correlation):
            self._fail(f"nothing waits for message {name!r}")
        return self.run()

    def signal(self, name: str, payload: dict[str, Any] | None = None) -> "ProcessRun":
        """Broadcast the signal `name`; fails when nothing waits for it."""
        __tracebackhide__ = True
        if not self.instance.send_signal(name, payload or {}):
            self._fail(f"nothing waits for signal {name!r}")
        return self.run()

    def advance(self, amount: Any) -> "ProcessRun":
        """Move the fake clock (`"PT1H"`, a timedelta or seconds) and run: timers now due fire."""
        self._tester.clock.advance(amount)
        return self.run()

    def fire(self, element_id: str | None = None) -> "ProcessRun":
        """Fire a waiting timer (or all of them) now, whatever the clock says."""
        __tracebackhide__ = True
        if self.instance.fire_timers(element_id) == 0:
            self._fail(f"no timer {element_id or ''} is waiting".replace("  ", " "))
        return self.run()

    # ----- assertions ---------------------------------------------------------------------------------------

    def assert_passed(self, *element_ids: str) -> "ProcessRun":
        """Each element was reached (in any order)."""
        __tracebackhide__ = True
        missing = [e for e in element_ids if e not in self.path]
        if missing:
            self._fail(f"expected to pass {', '.join(missing)}, but it never did")
        return self

    def assert_path(self, *element_ids: str, exact: bool = False) -> "ProcessRun":
        """The elements were reached in this order, others may come between; `exact=True`: the whole path."""
        __tracebackhide__ = True
        from .coverage import sequence
        from .scenarios import subsequence_problem
        if exact:
            if list(element_ids) != self.path:
                self._fail(f"expected exactly the path {sequence(list(element_ids))}")
        else:
            problem = subsequence_problem(list(element_ids), self.path)
            if problem:
                self._fail(problem)
        return self

    def assert_not_passed(self, *element_ids: str) -> "ProcessRun":
        __tracebackhide__ = True
        passed = [e for e in element_ids if e in self.path]
        if passed:
            self._fail(f"expected not to pass {', '.join(passed)}, but it did")
        return self

    def assert_waits_at(self, *element_ids: str) -> "ProcessRun":
        """The instance is waiting, at each of these elements."""
        __tracebackhide__ = True
        missing = [e for e in element_ids if e not in self.waiting]
        if self.status != "waiting" or missing:
            self._fail(f"expected to wait at {', '.join(missing or element_ids)}")
        return self

    def assert_ended_at(self, end_event: str) -> "ProcessRun":
        """The instance completed and reached this end event."""
        __tracebackhide__ = True
        if self.status != "completed" or end_event not in self.ends:
            self._fail(f"expected to end at {end_event}, ended at {', '.join(self.ends) or 'no end event'}")
        return self

    def assert_completed(self) -> "ProcessRun":
        __tracebackhide__ = True
        if self.status != "completed":
            self._fail("expected the instance to complete")
        return self

    def assert_failed(self, containing: str = "") -> "ProcessRun":
        __tracebackhide__ = True
        if self.status != "failed" or containing not in (self.result.error or ""):
            self._fail("expected the instance to fail" + (f" with {containing!r}" if containing else ""))
        return self

    def assert_data(self, expected: dict[str, Any] | None = None, **values: Any) -> "ProcessRun":
        """The process data holds these values (a subset: other variables may exist; nested mappings too)."""
        __tracebackhide__ = True
        from .scenarios import data_problems
        problems = data_problems({**(expected or {}), **values}, self.data)
        if problems:
            self._fail("; ".join(problems))
        return self

    def assert_called(self, handler: str, times: int | None = None) -> "ProcessRun":
        """The handler was called (exactly `times` times when given)."""
        __tracebackhide__ = True
        count = self._tester.handlers.called(handler)
        if (times is None and count == 0) or (times is not None and count != times):
            wanted = "at least once" if times is None else f"{times} time(s)"
            self._fail(f"expected handler {handler} to be called {wanted}, it was called {count} time(s)")
        return self

    def describe(self) -> str:
        from .coverage import sequence
        lines = [f"  status: {self.status}", f"  path taken: {sequence(self.path)}"]
        if self.waiting:
            lines.append(f"  waits at: {', '.join(self.waiting)}")
        if self.result.error:
            lines.append(f"  error: {self.result.error}")
        return "\n".join(lines)

    def _fail(self, message: str) -> None:
        __tracebackhide__ = True
        raise ProcessAssertionError(f"{message}\n{self.describe()}")
