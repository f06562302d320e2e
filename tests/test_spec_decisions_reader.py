"""Business rule tasks get their decisions through the loader's reader (the TaskReader), never by `_spiff`
importing the loader: a spec restored from JSON reuses the decisions read when its files were loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from bpmn_runner import load
from bpmn_runner.errors import DecisionError

DATA = Path(__file__).parent / "data" / "dmn"


def test_a_restored_spec_whose_decisions_were_never_read_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    from bpmn_runner._spiff import decisions
    from bpmn_runner._spiff.serializer import spec_from_json, spec_to_json
    definitions = load([DATA / "dinner_c7.bpmn", DATA / "dinnerDecisions.dmn"])
    spec, subprocesses = definitions.built.spec("dinner")
    text = spec_to_json(definitions.built.family, spec, subprocesses)
    monkeypatch.setattr(decisions, "_MODELS", type(decisions._MODELS)())
    with pytest.raises(DecisionError, match="load its definition files"):
        spec_from_json(definitions.built.family, text)


def test_the_decisions_of_one_file_set_are_read_once() -> None:
    first = load([DATA / "dinner_c7.bpmn", DATA / "dinnerDecisions.dmn"]).built.spec("dinner")[0]
    second = load([DATA / "dinner_c7.bpmn", DATA / "dinnerDecisions.dmn"]).built.spec("dinner")[0]
    assert first.task_specs["decide_dish"].engine.model is second.task_specs["decide_dish"].engine.model
