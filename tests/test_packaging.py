"""The package as users get it: a built wheel (not this editable checkout) carries the templates and runs."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import bpmn_runner

ROOT = Path(__file__).resolve().parents[1]


def test_public_api_all_is_sorted_and_importable() -> None:
    assert bpmn_runner.__all__ == sorted(bpmn_runner.__all__)
    for name in bpmn_runner.__all__:
        assert getattr(bpmn_runner, name) is not None
    assert {"handler", "ServiceCall", "BpmnError", "HandlerRegistry", "run", "Engine"} <= set(bpmn_runner.__all__)


def test_built_wheel_contains_templates_and_runs_help(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
                   check=True, capture_output=True, timeout=600)
    wheel = next(out.glob("bpmn_runner-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith("bpmn_runner/templates/") and n.endswith(".j2") for n in names), names
    assert "bpmn_runner/cli/__init__.py" in names
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "bpmn-runner = bpmn_runner.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    target = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(target)
    # dependencies come from this environment's site-packages, but bpmn_runner only from the wheel
    (target / "deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    python = venv / "bin" / "python"
    check = subprocess.run([str(python), "-c", "import bpmn_runner, sys; print(bpmn_runner.__file__)"],
                           capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert check.returncode == 0, check.stderr
    assert str(target) in check.stdout
    help_run = subprocess.run([str(python), "-m", "bpmn_runner", "--help"], capture_output=True, text=True,
                              cwd=tmp_path, timeout=120)
    assert help_run.returncode == 0 and "validate" in help_run.stdout
    report = subprocess.run([str(python), "-c", "from bpmn_runner.report import render_definition_report as r; "
                             f"print(len(r([{str(ROOT / 'processes' / 'order_fulfillment.bpmn')!r}])))"],
                            capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert report.returncode == 0 and int(report.stdout) > 1000, report.stderr


def test_importing_the_pytest_plugin_does_not_load_the_engine() -> None:
    probe = ("import sys, bpmn_runner, bpmn_runner.testing; "
             "print(any(m.startswith(('SpiffWorkflow', 'lxml', 'sqlalchemy')) for m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_readme_python_example_runs(monkeypatch) -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## From Python", 1)[1]
    code = section.split("```python", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(ROOT)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert namespace["result"].status == "completed"
    assert namespace["result"].path[-1] == "Event_OrderShipped"


def test_readme_durable_python_example_runs(monkeypatch, tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## From Python", 1)[1].split("\n## ", 1)[0]
    code = section.split("```python")[2].split("```", 1)[0]
    assert "sqlite:///orders.db" in code
    code = code.replace("sqlite:///orders.db", f"sqlite:///{tmp_path / 'orders.db'}")
    monkeypatch.chdir(ROOT)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    shown = namespace["shown"]
    assert shown["incidents"] == [] and "Activity_BookShipment" in [h["element_id"] for h in shown["history"]]
    # the pick-up timer (PT1S) is due later unless the machine was slow: waiting there, or already done
    assert (shown["status"], [w["element_id"] for w in shown["waiting"]]) in \
        [("waiting", ["Event_WaitForPickup"]), ("completed", [])]
