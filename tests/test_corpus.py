"""Every file of the shared corpus (real diagrams by other people) loads or is refused with one clear line, and
every executable process in it can be walked with --simulate without crashing or hanging.

The corpus lives in ../shared/corpus beside the repository (CI has it; a user's clone usually does not)."""

from __future__ import annotations

import re
import signal
from pathlib import Path

import pytest

from bpmn_runner import Engine, load
from bpmn_runner.errors import BpmnRunnerError
from bpmn_runner.lint import lint
from bpmn_runner.report import render_definition_report

from .foreign import foreign_text

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
FILES = sorted(p for p in CORPUS.rglob("*") if p.suffix.lower() in (".bpmn", ".dmn", ".xml")) if CORPUS.is_dir() else []
ONE_LINE = re.compile(r"^[^\n]+:\d+: error: [^\n]+$")

pytestmark = pytest.mark.skipif(not FILES, reason=f"the shared corpus is not at {CORPUS} (it is beside the repository "
                                                  "in CI; clones without ../shared skip these tests)")


class _Timeout(Exception):
    pass


def _alarm(seconds: int):
    def handler(signum, frame):
        raise _Timeout(f"took more than {seconds} s")
    signal.signal(signal.SIGALRM, handler)
    signal.alarm(seconds)


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(CORPUS)) for p in FILES])
def test_corpus_file_loads_or_is_refused_with_one_clear_line(path: Path) -> None:
    _alarm(20)
    try:
        try:
            definitions = load([path], search_siblings=True)
        except BpmnRunnerError as exc:
            message = str(exc)
            assert ONE_LINE.match(message), f"not one file:line line: {message!r}"
            assert foreign_text(message) == [], message
            named = Path(message.split(":", 1)[0])
            assert named.name == path.name or named.resolve().parent == path.resolve().parent, message
            return
        for process_id in definitions.entry_processes():
            result = Engine(None, simulate=True, max_steps=500, timer_wait=0).start(
                definitions, process_id, {}).run()
            assert result.status in ("completed", "waiting", "failed")
            if result.status == "failed":
                assert result.error and "\n" not in result.error and "Traceback" not in result.error
                assert foreign_text(result.error) == [], result.error
    finally:
        signal.alarm(0)


def test_validate_findings_over_the_corpus_show_no_python_internals() -> None:
    """Bug 6: every finding is about the diagram, never a KeyError, an lxml repr or an engine class."""
    findings = lint(FILES)
    assert len(findings) > 100
    assert [str(f) for f in findings if foreign_text(f.message)] == []


def test_reports_over_the_corpus_render_or_fail_without_python_internals() -> None:
    rendered = 0
    for path in FILES:
        try:
            render_definition_report([str(path)])
            rendered += 1
        except BpmnRunnerError as exc:
            assert foreign_text(str(exc)) == [], str(exc)
    assert rendered > len(FILES) // 2
