"""Scenario files: analysts' `*.scenario.yaml` beside a diagram, read (`files`, `model`, `yaml_lines`), run with the
in-memory engine and a fake clock (`runner`) and checked (`checks`). The file format is described in `files`."""

from .checks import check, data_problems, subsequence_problem
from .files import find_scenario_files, load_scenario_file
from .model import FakeClock, Scenario, ScenarioFile, ScenarioFileError, parse_duration
from .runner import ScenarioResult, ScenarioRun, ScenarioRunner, run_scenario_paths

__all__ = [
    "FakeClock",
    "Scenario",
    "ScenarioFile",
    "ScenarioFileError",
    "ScenarioResult",
    "ScenarioRun",
    "ScenarioRunner",
    "check",
    "data_problems",
    "find_scenario_files",
    "load_scenario_file",
    "parse_duration",
    "run_scenario_paths",
    "subsequence_problem",
]
