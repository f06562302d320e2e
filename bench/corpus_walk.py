"""Walk every executable process of ../shared/corpus with `run FILE --process ID --simulate --json`, in-process.

    .venv/bin/python bench/corpus_walk.py [--corpus DIR] [--table FILE] [--json FILE]

Each process not marked isExecutable="false" is run through the CLI's own `run` command (typer's CliRunner, so
the output is exactly what a user sees) and its outcome grouped: `end` (completed), `wait` (waiting for a person,
a message, a signal or a timer), or `failure` with the first words of its reason. An `internal error` line is a
traceback that reached the user. The table lists every process that does not reach an end or a wait.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterator

from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SECONDS_PER_PROCESS = 20


@dataclass
class Outcome:
    """What one simulated run of one process did."""

    file: str
    process: str
    outcome: str  # end | wait | failure
    reason: str
    seconds: float

    @property
    def reached(self) -> bool:
        return self.outcome in ("end", "wait")


def executable_processes(corpus: Path) -> Iterator[tuple[Path, str]]:
    """(file, process id) for every process in a .bpmn file that is not marked isExecutable="false"."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    for path in sorted(p for p in corpus.rglob("*") if p.suffix.lower() in (".bpmn", ".xml")):
        try:
            root = etree.parse(str(path), parser).getroot()
        except (etree.XMLSyntaxError, OSError):
            continue
        for process in root.iter(f"{{{BPMN_NS}}}process"):
            if process.get("isExecutable", "").strip().lower() != "false" and process.get("id"):
                yield path, process.get("id")


class _Timeout(Exception):
    pass


def _on_alarm(signum: int, frame: Any) -> None:
    raise _Timeout()


def walk(path: Path, process_id: str, extra: list[str] | None = None) -> Outcome:
    """One `run --simulate --json` through the CLI, in this process."""
    from typer.testing import CliRunner

    from bpmn_runner.cli import app

    started = time.perf_counter()
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(SECONDS_PER_PROCESS)
    try:
        result = CliRunner().invoke(app, ["run", str(path), "--process", process_id, "--simulate", "--json",
                                          *(extra or [])], catch_exceptions=True)
    except _Timeout:
        return Outcome(str(path), process_id, "failure", f"timeout: more than {SECONDS_PER_PROCESS} s",
                       time.perf_counter() - started)
    finally:
        signal.alarm(0)
    seconds = time.perf_counter() - started
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        return Outcome(str(path), process_id, "failure",
                       f"traceback: {type(result.exception).__name__}: {result.exception}", seconds)
    payload = _last_json(result.stdout)
    if payload is None:
        return Outcome(str(path), process_id, "failure", "no JSON on stdout: " + result.output[-200:], seconds)
    status = payload.get("status")
    if status == "completed":
        return Outcome(str(path), process_id, "end", "", seconds)
    if status == "waiting" and not payload.get("waiting"):
        return Outcome(str(path), process_id, "failure", "stalled: waiting, but for nothing", seconds)
    if status == "waiting":
        kinds = sorted({w.get("kind", "?") if isinstance(w, dict) else "task" for w in payload.get("waiting") or []})
        return Outcome(str(path), process_id, "wait", ",".join(kinds), seconds)
    return Outcome(str(path), process_id, "failure", str(payload.get("error") or "failed without a message"), seconds)


def _last_json(stdout: str) -> dict[str, Any] | None:
    for line in reversed(stdout.strip().splitlines()):
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


_NOISE = [(re.compile(r"^[^ ]+:\d+: error: "), ""), (re.compile(r"^(instance [0-9a-f]+, )?element [^:]+: "), ""),
          (re.compile(r"^instance [0-9a-f]+: "), ""),
          (re.compile(r"'[^']*'"), "'…'"), (re.compile(r'"[^"]*"'), '"…"'), (re.compile(r"\b\d+\b"), "N")]


def category(reason: str) -> str:
    """A reason with names and numbers blanked, so that alike failures group together."""
    text = reason
    for pattern, repl in _NOISE:
        text = pattern.sub(repl, text)
    return text[:110]


def render_table(outcomes: list[Outcome], corpus: Path) -> str:
    reached = sum(o.reached for o in outcomes)
    lines = [f"# Corpus processes that do not reach an end or a wait under --simulate",
             "", f"Generated by `bench/corpus_walk.py`: {reached} of {len(outcomes)} executable processes reach an "
                 f"end or a wait state.", "", "| file | process | reason |", "|---|---|---|"]
    for o in outcomes:
        if not o.reached:
            reason = re.sub(r"instance [0-9a-f]{32}, ", "", o.reason.replace(str(corpus) + "/", ""))
            reason = reason.replace("|", "\\|").replace("\n", " ")
            lines.append(f"| {Path(o.file).relative_to(corpus)} | {o.process} | {reason} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--table", type=Path, help="write the table of processes that do not reach an end or wait")
    parser.add_argument("--json", type=Path, help="write every outcome as JSON")
    args = parser.parse_args(argv)
    outcomes = []
    started = time.perf_counter()
    for path, process_id in executable_processes(args.corpus):
        outcomes.append(walk(path, process_id))
    total = time.perf_counter() - started
    counts = Counter(o.outcome for o in outcomes)
    print(f"{len(outcomes)} executable processes in {total:.1f} s: " +
          ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print(f"reach an end or a wait: {counts['end'] + counts['wait']} of {len(outcomes)}")
    print("waits:", dict(Counter(o.reason for o in outcomes if o.outcome == "wait")))
    print("tracebacks:", sum(o.reason.startswith(("traceback", "internal error")) for o in outcomes))
    print("\nfailures by reason:")
    for reason, count in Counter(category(o.reason) for o in outcomes if o.outcome == "failure").most_common():
        print(f"  {count:4}  {reason}")
    if args.table:
        args.table.write_text(render_table(outcomes, args.corpus), encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps([asdict(o) for o in outcomes], indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
