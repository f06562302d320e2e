"""The corpus as a regression guard for `run --simulate` (issue 14, item 6): every executable process of
../shared/corpus is walked in-process through the CLI's own `run FILE --process ID --simulate --json`; the count
that reaches an end or a wait state must not fall, and no run may print a traceback.

When the count goes up, raise REACHED_AT_LEAST and regenerate the table of the rest:
    .venv/bin/python bench/corpus_walk.py --table bench/corpus_walk.md"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
REACHED_AT_LEAST = 399  # of 406; 148 before issue 14 (the 7 left are broken files: bench/corpus_walk.md)

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"the shared corpus is not at {CORPUS}")


def _corpus_walk():
    spec = importlib.util.spec_from_file_location("corpus_walk", ROOT / "bench" / "corpus_walk.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["corpus_walk"] = module
    spec.loader.exec_module(module)
    return module


def test_simulating_the_corpus_reaches_an_end_or_a_wait_without_tracebacks() -> None:
    walk = _corpus_walk()
    outcomes = [walk.walk(path, process_id) for path, process_id in walk.executable_processes(CORPUS)]
    tracebacks = [o for o in outcomes if o.reason.startswith(("traceback", "internal error", "no JSON"))]
    assert not tracebacks, tracebacks[:3]
    reached = sum(o.reached for o in outcomes)
    assert reached >= REACHED_AT_LEAST, "fewer processes walk than before:\n" + walk.render_table(outcomes, CORPUS)
    stalled = [o for o in outcomes if o.outcome == "wait" and not o.reason]
    assert not stalled, stalled[:3]
