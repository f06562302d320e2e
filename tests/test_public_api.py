"""The public names of each package module, as exact lists: adding or dropping one is a decision, not an accident."""

from __future__ import annotations

import importlib

import pytest

PUBLIC = {
    "bpmn_runner": ["BpmnError", "BpmnRunnerError", "Definitions", "Engine", "Environment", "HandlerRegistry",
                    "Instance", "ListenerCall", "RunResult", "Runtime", "ServiceCall", "build_environment", "decide",
                    "handler", "load", "load_decisions", "open_runtime", "run"],
    "bpmn_runner.environment": ["DEFAULT_TIMER_WAIT", "Environment", "build_environment", "new_id"],
    "bpmn_runner.settings": ["COMMIT_MODES", "SETTINGS_TABLE", "Settings", "check_commit_mode", "find_pyproject",
                             "load_settings"],
    "bpmn_runner.clock": ["Clock", "system_clock"],
    "bpmn_runner.jsondata": ["json_safe"],
    "bpmn_runner.fakes": ["Fake", "failing", "in_turn", "raising", "returning"],
    "bpmn_runner.durable": ["DEFAULT_TTL", "Runtime", "StepFailed", "Worker", "WorkerStats", "backoff_after",
                            "content_hash", "default_worker_id", "key_string", "open_runtime", "parse_duration",
                            "retry_policy"],
    "bpmn_runner.cli": ["EXIT_DEFINITION", "EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "app", "main"],
    "bpmn_runner.testing": ["BpmnTester", "Handlers", "ProcessAssertionError", "ProcessRun"],
    "bpmn_runner.tester": ["BpmnTester", "Handlers", "ProcessAssertionError", "ProcessRun"],
    "bpmn_runner.scenarios": ["FakeClock", "Scenario", "ScenarioFile", "ScenarioFileError", "ScenarioResult",
                              "ScenarioRun", "ScenarioRunner", "check", "data_problems", "find_scenario_files",
                              "load_scenario_file", "parse_duration", "run_scenario_paths", "subsequence_problem"],
    "bpmn_runner.store": ["DefinitionRecord", "ENDED_STATUSES", "ENV_VAR", "InstanceRecord", "JobRecord",
                          "LeaseLostError", "MessageRecord", "OPEN_STATUSES", "OutboxRecord", "SCHEMA_VERSION",
                          "STATUSES",
                          "StepRecord", "Store", "WaitRecord", "open_store", "resolve_url"],
}


@pytest.mark.parametrize("module_name", sorted(PUBLIC))
def test_all_is_exactly_the_public_api(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert sorted(module.__all__) == sorted(PUBLIC[module_name])
    for name in module.__all__:
        assert getattr(module, name) is not None, name
