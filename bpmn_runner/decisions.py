"""Load DMN files and evaluate decisions with native values: the library behind `bpmn-runner decide`."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from . import feel
from .dmn import DecisionModel, DecisionResult
from .dmn.inputs import convert_inputs
from .dmn.model import Definitions
from .errors import BpmnRunnerError, DefinitionError, UnknownProcessError
from .loader.dmn import read_dmn_file
from .loader.documents import display_name, expand_paths

def load_decisions(paths: list[str | Path], *, search_siblings: bool = True) -> DecisionModel:
    """Read DMN files (the first is the main model); imported models are looked for beside them by namespace."""
    files = [p for p in expand_paths(paths) if p.suffix.lower() in (".dmn", ".xml")]
    if not files:
        raise DefinitionError("no .dmn file given")
    definitions = [read_dmn_file(p, display_name(p)) for p in files]
    if search_siblings:
        _add_imports(definitions, files)
    return DecisionModel(definitions)


def _add_imports(definitions: list[Definitions], files: list[Path]) -> None:
    known = {d.namespace for d in definitions}
    wanted = {i.namespace for d in definitions for i in d.imports} - known
    if not wanted:
        return
    loaded = {p.resolve() for p in files}
    for folder in sorted({p.resolve().parent for p in files}):
        for candidate in sorted(folder.glob("*.dmn")):
            if candidate.resolve() in loaded or not wanted:
                continue
            try:
                defs = read_dmn_file(candidate, display_name(candidate))
            except BpmnRunnerError:
                continue
            if defs.namespace in wanted:
                definitions.append(defs)
                wanted.discard(defs.namespace)
                wanted |= {i.namespace for i in defs.imports} - {d.namespace for d in definitions}


def decide(model: DecisionModel | list[str | Path] | str | Path, decision: str | None = None,
           data: Mapping[str, Any] | None = None, *, parse_strings: bool = True) -> DecisionResult:
    """Evaluate a decision (by id or name; default: the main file's top decision) and the decisions it requires.

    Inputs are plain Python values (int, float, str, Decimal, date, datetime, time, timedelta, lists, dicts);
    the result holds FEEL values (Decimal numbers, dates, durations...). `feel.to_json` makes them JSON-ready."""
    if not isinstance(model, DecisionModel):
        model = load_decisions(list(model) if isinstance(model, (list, tuple)) else [model])
    try:
        model.find_decision(decision)
    except KeyError as exc:
        raise UnknownProcessError(str(exc.args[0]), file=model.main.file) from None
    return model.evaluate(decision, convert_inputs(model, data or {}, parse_strings=parse_strings))


def result_as_json(result: DecisionResult) -> dict[str, Any]:
    """The `--json` shape of `bpmn-runner decide`: decision id, its value, every evaluated decision by name."""
    out: dict[str, Any] = {"decision": result.decision_id, "result": feel.to_json(result.value),
                           "results": {k: feel.to_json(v) for k, v in result.results.items()}}
    if result.matched_rules:
        out["matched_rules"] = result.matched_rules
    if result.errors:
        out["errors"] = list(result.errors)
    return out
