"""One Environment for every entry point (issue 11): entry-point handlers reach `worker`, `[tool.bpmn-runner]`
settings reach `test`, the pytest plugin and the Python API, the injected clock stamps every time, the worker
claims without recursing, and a saved state that no longer fits its diagram is a clear error."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bpmn_runner import Engine, HandlerRegistry, load, run
from bpmn_runner.cli import app
from bpmn_runner.durable import Worker
from bpmn_runner.environment import build_environment
from bpmn_runner.errors import ExecutionError
from bpmn_runner.scenarios import FakeClock
from bpmn_runner.settings import load_settings
from bpmn_runner.store import JobRecord

from .durable import MovableClock, registry, runtime, three_services, user_task_process, worker
from .scenario import definitions_xml

pytest_plugins = ["pytester"]

runner = CliRunner()

SQUARE_ROOT = ('<bpmn:startEvent id="s"/><bpmn:scriptTask id="calc" name="Square root"><bpmn:script>import math\n'
               'root = math.sqrt(16)</bpmn:script></bpmn:scriptTask><bpmn:endEvent id="e"/>'
               '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="calc"/>'
               '<bpmn:sequenceFlow id="f2" sourceRef="calc" targetRef="e"/>')
TRUST = "[tool.bpmn-runner]\ntrust_scripts = true\n"
STEP_HANDLERS = ("from bpmn_runner import handler\n\n\n@handler('step.a')\ndef a(call):\n    return {'a': 1}\n\n\n"
                 "@handler('step.b')\ndef b(call):\n    return {'b': 1}\n\n\n@handler('step.c')\ndef c(call):\n"
                 "    return {'c': 1}\n")


# ----- bug 1: the entry points reach the worker; a job without a handler is named -------------------------------

@pytest.fixture
def entry_point_handlers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A module offered through the `bpmn_runner.handlers` entry-point group, as an installed plugin would."""
    module = tmp_path / "shop_steps_plugin.py"
    module.write_text(STEP_HANDLERS)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "shop_steps_plugin", raising=False)
    offered = [EntryPoint("shop", "shop_steps_plugin", "bpmn_runner.handlers")]
    monkeypatch.setattr("bpmn_runner.registry.entry_points",
                        lambda group: offered if group == "bpmn_runner.handlers" else [])
    monkeypatch.chdir(tmp_path)
    return module


def test_the_worker_runs_handlers_offered_through_entry_points(entry_point_handlers: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'ep.db'}"
    started = runner.invoke(app, ["start", str(three_services(tmp_path)), "--db", db])
    assert started.exit_code == 0, started.output
    worked = runner.invoke(app, ["worker", "--until-idle", "--db", db])
    assert worked.exit_code == 0 and "3 service" in worked.output, worked.output
    shown = runner.invoke(app, ["show", started.stdout.splitlines()[0], "--db", db, "--json"])
    assert json.loads(shown.stdout)["status"] == "completed"


def test_the_entry_point_module_given_again_with_handlers_is_not_registered_twice(entry_point_handlers: Path) -> None:
    listed = runner.invoke(app, ["handlers", "--handlers", str(entry_point_handlers), "--json"])
    assert listed.exit_code == 0, listed.output
    assert sorted(h["name"] for h in json.loads(listed.stdout)["handlers"]) == ["step.a", "step.b", "step.c"]


def test_a_worker_without_the_handler_names_the_job_type_and_the_instance(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    db = f"sqlite:///{tmp_path / 'none.db'}"
    started = runner.invoke(app, ["start", str(three_services(tmp_path)), "--db", db])
    instance_id = started.stdout.splitlines()[0]
    worked = runner.invoke(app, ["worker", "--until-idle", "--db", db])
    assert worked.exit_code == 1, worked.output
    assert "'step.a'" in worked.output and instance_id in worked.output
    assert "no handler for job type" in worked.output


# ----- bug 2: the settings reach `test`, the pytest plugin and the Python API ----------------------------------

def _square_root_project(folder: Path) -> Path:
    diagram = folder / "calc.bpmn"
    diagram.write_text(definitions_xml(SQUARE_ROOT))
    (folder / "calc.scenario.yaml").write_text("diagram: calc.bpmn\nscenarios:\n  - name: square root\n"
                                               "    then:\n      data: {root: 4.0}\n")
    return diagram


def test_bpmn_runner_test_honours_the_settings_and_accepts_the_flag_it_advises(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _square_root_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    refused = runner.invoke(app, ["test", "calc.scenario.yaml"])
    assert refused.exit_code == 1 and "--trust-scripts" in refused.output
    flagged = runner.invoke(app, ["test", "calc.scenario.yaml", "--trust-scripts"])
    assert flagged.exit_code == 0, flagged.output
    (tmp_path / "pyproject.toml").write_text(TRUST)
    configured = runner.invoke(app, ["test", "calc.scenario.yaml"])
    assert configured.exit_code == 0 and "1 passed" in configured.output, configured.output


def test_the_pytest_plugin_honours_the_settings(pytester: pytest.Pytester) -> None:
    _square_root_project(pytester.path)
    pytester.makepyfile(test_calc="def test_calc(bpmn):\n    bpmn.start('calc.bpmn').assert_data(root=4.0)\n")
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=0, failed=2)
    (pytester.path / "pyproject.toml").write_text(TRUST)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_engine_and_run_from_python_honour_the_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    diagram = _square_root_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert run([str(diagram)]).status == "failed"
    (tmp_path / "pyproject.toml").write_text(TRUST)
    assert run([str(diagram)]).data["root"] == 4.0
    assert Engine().start(load([diagram])).run().data["root"] == 4.0


def test_reading_settings_and_building_an_environment_do_not_load_the_engine(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(TRUST)
    code = ("import sys; from bpmn_runner.settings import load_settings; from pathlib import Path; "
            "from bpmn_runner.environment import build_environment; "
            f"s = load_settings(Path({str(tmp_path)!r})); e = build_environment(settings=s); "
            "print(e.trust_scripts, any(m.startswith('SpiffWorkflow') for m in sys.modules))")
    import subprocess
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["True", "False"], out.stderr
    assert load_settings(tmp_path).trust_scripts and build_environment(settings=load_settings(tmp_path),
                                                                       entry_points=False).trust_scripts


# ----- bug 3: the injected clock stamps history, messages and durable rows -------------------------------------

FAKE_START = datetime(2031, 5, 6, 7, 8, 9, tzinfo=timezone.utc)


def test_history_and_message_times_follow_the_injected_clock(tmp_path: Path) -> None:
    body = ('<bpmn:startEvent id="s"/><bpmn:intermediateThrowEvent id="ping"><bpmn:messageEventDefinition '
            'messageRef="M"/></bpmn:intermediateThrowEvent><bpmn:endEvent id="e"/>'
            '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="ping"/>'
            '<bpmn:sequenceFlow id="f2" sourceRef="ping" targetRef="e"/>')
    diagram = tmp_path / "ping.bpmn"
    diagram.write_text(definitions_xml(body, extra='<bpmn:message id="M" name="ping"/>'))
    clock = FakeClock(FAKE_START)
    result = Engine(clock=clock.now).start(load([diagram])).run()
    assert result.status == "completed"
    assert {h.at for h in result.history} == {FAKE_START.timestamp()}
    assert [m["at"] for m in result.messages_sent] == [FAKE_START.timestamp()]


def test_stored_history_rows_follow_the_injected_clock(store, tmp_path: Path) -> None:
    clock = MovableClock(FAKE_START)
    rt = runtime(store, registry(step_a=lambda c: {}, step_b=lambda c: {}, step_c=lambda c: {}), clock)
    iid = rt.start([three_services(tmp_path)])["instance_id"]
    worker(rt).run_once()
    other = rt.start([user_task_process(tmp_path)])["instance_id"]
    clock.advance(hours=1)
    rt.cancel(other)
    times = {(h["event"], h["at"]) for h in rt.show(iid)["history"] + rt.show(other)["history"]}
    assert {at for _, at in times} <= {FAKE_START.timestamp(), FAKE_START.timestamp() + 3600}
    assert ("taken", FAKE_START.timestamp()) in times and ("cancelled", FAKE_START.timestamp() + 3600) in times


# ----- bug 4: the worker claims in a loop ------------------------------------------------------------------------

def test_many_exhausted_jobs_do_not_exhaust_the_stack(store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rt = runtime(store, None, MovableClock())
    exhausted = [JobRecord(f"j{i}", None, "timer", "t", "wait", None, {}, 0.0, 3, 3, None) for i in range(3000)]
    claims = iter([([], [job]) for job in exhausted])
    monkeypatch.setattr(store, "claim_jobs", lambda *a, **k: next(claims, ([], [])))
    failed: list[str] = []
    monkeypatch.setattr(rt, "fail_job", lambda job, *a, **k: failed.append(job.id) or "incident")
    w = Worker(rt, worker_id="w1")
    assert w._claim() == []
    assert len(failed) == 3000 and w.stats.incidents == 3000


# ----- bug 5: a saved state that does not fit a changed diagram -------------------------------------------------

def test_restoring_a_state_into_a_changed_diagram_is_a_clear_error(tmp_path: Path) -> None:
    flows = ('<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="{t}"/>'
             '<bpmn:sequenceFlow id="f2" sourceRef="{t}" targetRef="end"/>')
    before = tmp_path / "before.bpmn"
    before.write_text(definitions_xml('<bpmn:startEvent id="start"/><bpmn:userTask id="review"/>'
                                      '<bpmn:endEvent id="end"/>' + flows.format(t="review")))
    after = tmp_path / "after.bpmn"
    after.write_text(definitions_xml('<bpmn:startEvent id="start"/><bpmn:userTask id="check"/>'
                                     '<bpmn:endEvent id="end"/>' + flows.format(t="check")))
    instance = Engine(HandlerRegistry()).start(load([before]))
    assert instance.run().status == "waiting"
    with pytest.raises(ExecutionError) as raised:
        Engine(HandlerRegistry()).restore(load([after]), "p", instance.state(), instance.instance_id)
    message = str(raised.value)
    assert "'review'" in message and "no longer defines" in message and "module" not in message
