"""Business rule tasks get their decisions through the loader's reader (the TaskReader), never by `_spiff`
importing the loader: a spec restored from JSON reuses the decisions read when its files were loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from bpmn_runner import load
from bpmn_runner.errors import DecisionError

DATA = Path(__file__).parent / "data" / "dmn"


def test_a_spec_restored_in_a_fresh_process_reads_its_decisions_with_the_loaders_reader(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from bpmn_runner._spiff import decisions
    from bpmn_runner._spiff.serializer import spec_from_json, spec_to_json
    from bpmn_runner.loader.task_reader import TASK_READER
    definitions = load([DATA / "dinner_c7.bpmn", DATA / "dinnerDecisions.dmn"])
    spec, subprocesses = definitions.built.spec("dinner")
    family, text = definitions.built.family, spec_to_json(definitions.built.family, spec, subprocesses)
    monkeypatch.setattr(decisions, "_MODELS", type(decisions._MODELS)())  # as in a process that never loaded them
    with pytest.raises(DecisionError, match="reader=TASK_READER"):
        spec_from_json(family, text)
    restored, _ = spec_from_json(family, text, reader=TASK_READER)
    assert restored.task_specs["decide_beverages"].engine.model.find_decision("beverages")[1].name == "Beverages"


def test_the_decisions_of_one_file_set_are_read_once() -> None:
    first = load([DATA / "dinner_c7.bpmn", DATA / "dinnerDecisions.dmn"]).built.spec("dinner")[0]
    second = load([DATA / "dinner_c7.bpmn", DATA / "dinnerDecisions.dmn"]).built.spec("dinner")[0]
    assert first.task_specs["decide_dish"].engine.model is second.task_specs["decide_dish"].engine.model
