"""A chain of 2,000 service tasks with no-op handlers through the CLI on SQLite (issue 15), run by hand:

    .venv/bin/python bench/cli_chain.py [--tasks 2000] [--json FILE]

Three commands, each its own process, on the same diagram (Camunda 8 job types, so that wait-state commits run
the handlers in-process):

- in memory: `bpmn-runner run chain.bpmn --handlers h.py`;
- wait-states: `bpmn-runner start chain.bpmn --handlers h.py --db sqlite:///...` (the default commit mode: the
  handlers run one after another in memory, one commit at the end);
- each-task: the same with `--commit each-task` (a committed step per service task).

Start-up (imports, loading and parsing the diagram) is excluded: the handler writes the time of its first call,
and a command's time runs from there to the end of its process. Prints each command's time, each-task's ms per
committed step, and wait-states against in memory.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.generate import chain  # noqa: E402

HANDLERS = '''
import time
from bpmn_runner import handler

FIRST = {first!r}
_seen = []


@handler("noop")
def noop(call):
    if not _seen:
        _seen.append(1)
        with open(FIRST, "w") as out:
            out.write(repr(time.time()))
    return None
'''


def timed(command: list[str], first: Path) -> float:
    """Seconds from the first handler call to the end of the command's process."""
    first.unlink(missing_ok=True)
    done = subprocess.run([sys.executable, "-m", "bpmn_runner", *command], capture_output=True, text=True)
    ended = time.time()
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:2])} failed: {done.stderr[-2000:]}")
    status = json.loads(done.stdout).get("status")
    if status != "completed":
        raise RuntimeError(f"{' '.join(command[:2])}: the instance is {status}, not completed")
    return ended - float(first.read_text())


def measure(tasks: int, runs: int = 2) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        diagram = base / "chain.bpmn"
        diagram.write_text(chain(tasks, dialect="zeebe"))
        first = base / "first.txt"
        handlers = base / "chain_handlers.py"
        handlers.write_text(HANDLERS.format(first=str(first)))
        common = [str(diagram), "--handlers", str(handlers)]
        best: dict[str, float] = {}
        for attempt in range(runs):  # best of `runs`: the machine is shared
            rows = {
                "memory_s": ["run", *common, "--json"],
                "wait_states_s": ["start", *common, "--db", f"sqlite:///{base}/ws-{attempt}.db", "--json"],
                "each_task_s": ["start", *common, "--db", f"sqlite:///{base}/et-{attempt}.db", "--commit",
                                "each-task", "--json"],
            }
            for name, command in rows.items():
                seconds = timed(command, first)
                best[name] = min(best.get(name, seconds), seconds)
    return {"tasks": tasks, **{k: round(v, 3) for k, v in best.items()},
            # one commit per task after the first handler call (the start's commit came before it)
            "each_task_ms_per_step": round(best["each_task_s"] / tasks * 1000, 3),
            "wait_states_vs_memory": round(best["wait_states_s"] / best["memory_s"], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    out = measure(args.tasks)
    print(f"chain of {out['tasks']} service tasks through the CLI on SQLite (start-up excluded):")
    print(f"  in memory (run)            {out['memory_s']:8.3f} s")
    print(f"  wait-states (start)        {out['wait_states_s']:8.3f} s   {out['wait_states_vs_memory']}x in memory")
    print(f"  each-task (start --commit) {out['each_task_s']:8.3f} s   {out['each_task_ms_per_step']} ms per "
          f"committed step")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
