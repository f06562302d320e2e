"""A pytest plugin for testing processes like code (registered through the `pytest11` entry point).

Fixtures:

- `bpmn`: load diagrams and start instances: `run = bpmn.start("order.bpmn", data={...})`. The returned
  `ProcessRun` completes user tasks (`run.complete("Activity_Approve", {...})`), delivers messages and signals
  (`run.message(name, payload, correlation)`, `run.signal(name)`), moves the fake clock (`run.advance("PT1H")`)
  and asserts like the business says it: `run.assert_passed(...)`, `run.assert_path(...)`,
  `run.assert_not_passed(...)`, `run.assert_waits_at(...)`, `run.assert_ended_at(...)`, `run.assert_data(...)`,
  `run.assert_called(...)`. A failed assertion prints the path actually taken.
- `bpmn_handlers`: fake handlers (`.returns(name, {...})`, `.raises(name, code, message)`, `.fails(name, text)`,
  `.register(name, func)`) or real ones (`.load("handlers.py")`); every call is recorded (`.calls(name)`).
- `bpmn_clock`: the fake clock the instances run on; timers fire only when it moves past their due time.

Options: `--bpmn-cov` writes one HTML coverage report per diagram (plus coverage.json) into `--bpmn-cov-dir`
(default `bpmn-coverage/`); `--bpmn-cov-fail-under N` fails the run when the total is below N percent.

`*.scenario.yaml` files are collected as tests too (one item per scenario) and count for coverage.

The plugin stays inert unless used: importing it pulls in nothing beyond pytest, and nothing is recorded or
written unless a fixture or scenario runs and the coverage options are given.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import pytest

from .errors import ScenarioFailed

if TYPE_CHECKING:  # pragma: no cover
    from .coverage import Coverage
    from .environment import Environment
    from .scenarios import FakeClock, Scenario, ScenarioFile, ScenarioResult, ScenarioRunner
    from .tester import BpmnTester, Handlers

__all__ = ["BpmnTester", "Handlers", "ProcessAssertionError", "ProcessRun"]

SCENARIO_SUFFIXES = (".scenario.yaml", ".scenario.yml")


# --- options and session state --------------------------------------------------------------------------------

def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("bpmn-runner", "BPMN process tests (bpmn-runner)")
    group.addoption("--bpmn-cov", action="store_true", default=False,
                    help="Write BPMN diagram coverage: one HTML report per diagram into --bpmn-cov-dir.")
    group.addoption("--bpmn-cov-dir", default="bpmn-coverage", metavar="DIR",
                    help="Folder for the BPMN coverage reports (default: bpmn-coverage).")
    group.addoption("--bpmn-cov-fail-under", type=float, default=None, metavar="N",
                    help="Fail the run when the total BPMN coverage is below N percent (implies --bpmn-cov).")


class _State:
    """Per-session: the coverage of every run of every test, and what the end of the session found."""

    def __init__(self, config: pytest.Config) -> None:
        self.fail_under: float | None = config.getoption("bpmn_cov_fail_under")
        self.enabled = bool(config.getoption("bpmn_cov")) or self.fail_under is not None
        self.directory = Path(config.invocation_params.dir) / config.getoption("bpmn_cov_dir")
        self._start = Path(config.invocation_params.dir)
        self._environment: Environment | None = None
        self._coverage: Coverage | None = None
        self._runner: ScenarioRunner | None = None
        self.summaries: list[dict[str, Any]] = []
        self.total: dict[str, Any] | None = None
        self.failed = False
        self.error: str | None = None

    @property
    def coverage(self) -> "Coverage":
        if self._coverage is None:
            from .coverage import Coverage
            self._coverage = Coverage()
        return self._coverage

    @property
    def environment(self) -> "Environment":
        """The session's Environment: the `[tool.bpmn-runner]` settings of the project pytest runs in (each test
        adds its own handlers and fake clock)."""
        if self._environment is None:
            from .environment import build_environment
            from .settings import load_settings
            self._environment = build_environment(entry_points=False, settings=load_settings(self._start))
        return self._environment

    @property
    def runner(self) -> "ScenarioRunner":
        if self._runner is None:
            from .scenarios import ScenarioRunner
            self._runner = ScenarioRunner(self.coverage, environment=self.environment)
        return self._runner

    def finish(self) -> None:
        """Write the reports and check the threshold (only with --bpmn-cov or --bpmn-cov-fail-under)."""
        if not self.enabled or self._coverage is None:
            if self.enabled and self.fail_under is not None:
                self.total = {"covered": 0, "total": 0, "percentage": 0.0}
                self.failed = True
            return
        from .coverage import write_reports
        try:
            write_reports(self._coverage, self.directory)
        except Exception as exc:  # a report problem must not hide the test results
            self.error = f"{type(exc).__name__}: {exc}"
        self.summaries = self._coverage.summaries()
        self.total = self._coverage.total()
        if self.fail_under is not None and self.total["percentage"] < self.fail_under:
            self.failed = True


_STATE = pytest.StashKey[_State]()


def _state(config: pytest.Config) -> _State:
    state = config.stash.get(_STATE, None)
    if state is None:
        state = config.stash[_STATE] = _State(config)
    return state


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_STATE] = _State(config)


@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session: pytest.Session) -> Iterator[None]:
    result = yield
    state = session.config.stash.get(_STATE, None)
    if state is not None and state.enabled and not session.config.option.collectonly:
        state.finish()
        if state.failed:
            session.testsfailed += 1  # turns the exit status into 1, like pytest-cov's --cov-fail-under
    return result


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    if state is None or not state.enabled or state.total is None:
        return
    from .coverage import format_line
    tr = terminalreporter
    tr.write_sep("-", "BPMN coverage")
    for summary in state.summaries:
        tr.write_line(format_line(summary))
    if state.summaries:
        tr.write_line(f"total: coverage {state.total['percentage']:.1f}% "
                      f"({state.total['covered']}/{state.total['total']} elements); "
                      f"HTML reports in {state.directory}")
    else:
        tr.write_line("no diagram was loaded through the bpmn fixtures or scenario files")
    if state.error:
        tr.write_line(f"error: the coverage reports could not be written: {state.error}", red=True)
    if state.failed:
        tr.write_line(f"FAIL: BPMN coverage {state.total['percentage']:.1f}% is below --bpmn-cov-fail-under "
                      f"{state.fail_under:g}%", red=True, bold=True)


# --- scenario files as tests ------------------------------------------------------------------------------------

def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.name.endswith(SCENARIO_SUFFIXES):
        return ScenarioYamlFile.from_parent(parent, path=file_path)
    return None


class ScenarioYamlFile(pytest.File):
    """A `*.scenario.yaml` file: one test item per scenario."""

    def collect(self) -> Iterator[pytest.Item]:
        from .scenarios import ScenarioFileError, load_scenario_file
        try:
            scenario_file = load_scenario_file(self.path)
        except ScenarioFileError as exc:
            raise self.CollectError(str(exc)) from exc
        for scenario in scenario_file.scenarios:
            yield ScenarioItem.from_parent(self, name=scenario.name.replace("::", ":"),
                                           scenario_file=scenario_file, scenario=scenario)


class ScenarioItem(pytest.Item):
    """One scenario of a scenario file, run with the in-memory engine and a fake clock."""

    def __init__(self, *, scenario_file: "ScenarioFile", scenario: "Scenario", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario_file = scenario_file
        self.scenario = scenario

    def runtest(self) -> None:
        result = _state(self.config).runner.run(self.scenario_file, self.scenario, test=self.nodeid)
        if not result.passed:
            raise ScenarioFailed(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        from .errors import BpmnRunnerError
        if isinstance(excinfo.value, ScenarioFailed):
            return str(excinfo.value)
        if isinstance(excinfo.value, BpmnRunnerError):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.scenario.line - 1, f"scenario: {self.scenario.name}"


# --- fixtures -------------------------------------------------------------------------------------------------

@pytest.fixture
def bpmn_clock() -> "FakeClock":
    """The fake clock of this test's instances; `bpmn_clock.advance("PT1H")` moves it."""
    from .scenarios import FakeClock
    return FakeClock()


@pytest.fixture
def bpmn_handlers() -> "Handlers":
    """Fake or real handlers for this test's instances; every call is recorded."""
    from .tester import Handlers
    return Handlers()


@pytest.fixture
def bpmn(request: pytest.FixtureRequest, bpmn_handlers: "Handlers", bpmn_clock: "FakeClock") -> "BpmnTester":
    """Load diagrams and start instances; what they take counts for `--bpmn-cov`."""
    from .tester import BpmnTester
    return BpmnTester(bpmn_handlers, bpmn_clock, _state(request.config), request.node.nodeid,
                      Path(request.path).parent)


def __getattr__(name: str) -> Any:
    """The fixtures' objects (`Handlers`, `BpmnTester`, `ProcessRun`, `ProcessAssertionError`) live in `tester`,
    imported on first use so that the plugin stays light."""
    if name in __all__:
        from . import tester
        return getattr(tester, name)
    raise AttributeError(f"module 'bpmn_runner.testing' has no attribute {name!r}")
