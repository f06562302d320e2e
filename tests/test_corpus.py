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
            named = Path(message.split(":", 1)[0])
            assert named.name == path.name or named.resolve().parent == path.resolve().parent, message
            return
        for process_id in definitions.entry_processes():
            result = Engine(None, simulate=True, max_steps=500, timer_wait=0).start(
                definitions, process_id, {}).run()
            assert result.status in ("completed", "waiting", "failed")
            if result.status == "failed":
                assert result.error and "\n" not in result.error and "Traceback" not in result.error
    finally:
        signal.alarm(0)
