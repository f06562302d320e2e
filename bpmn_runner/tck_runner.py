"""Run DMN TCK directories (a model beside its `*-test-*.xml` files) and count the outcomes per test case."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .dmn import DecisionModel
from .dmn.tck import CaseOutcome, run_case
from .errors import BpmnRunnerError
from .loader.dmn import read_dmn_file
from .loader.tck import read_tck_file


@dataclass
class TckRow:
    directory: str        # e.g. compliance-level-2/0004-simpletable-U
    test_file: str        # the test file's name without .xml
    outcome: CaseOutcome

    def csv_fields(self) -> list[str]:
        return [self.directory, self.test_file, self.outcome.case_id, self.outcome.status, self.outcome.message]


def _directory_label(directory: Path) -> str:
    return f"{directory.parent.name}/{directory.name}"


def run_directory(directory: str | Path) -> list[TckRow]:
    """Every test case of every test file in one TCK directory."""
    directory = Path(directory)
    label = _directory_label(directory)
    rows: list[TckRow] = []
    models = sorted(directory.glob("*.dmn"))
    for test_path in sorted(directory.glob("*-test-*.xml")):
        test_file = read_tck_file(test_path)
        try:
            main = directory / test_file.model_name
            ordered = [main] + [m for m in models if m != main]
            model = DecisionModel([read_dmn_file(p, p.name) for p in ordered])
        except (BpmnRunnerError, OSError) as exc:
            rows.extend(TckRow(label, test_path.stem, CaseOutcome(c.id, "ERROR", f"model not loaded: {exc}"))
                        for c in test_file.cases)
            continue
        rows.extend(TckRow(label, test_path.stem, run_case(model, case)) for case in test_file.cases)
    return rows


def find_directories(paths: list[str | Path]) -> list[Path]:
    """TCK directories named directly, or below the given folders."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if any(path.glob("*-test-*.xml")):
            out.append(path)
        else:
            out.extend(sorted(p.parent for p in path.rglob("*-test-*.xml") if p.parent not in out))
    unique: list[Path] = []
    for path in out:
        if path not in unique:
            unique.append(path)
    return unique
