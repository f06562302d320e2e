"""Compensation cost: N completions of a compensable multi-instance task, then one throw event undoing all of them.

    .venv/bin/python bench/compensation_bench.py [N ...]      (default: 100 1000)

Prints, per N: the time to run the N completions, the saved state size with the ledger (N records), and the time
for the throw event to run the N handlers (one after the other, Camunda 7 order), in memory.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bpmn_runner import Engine, HandlerRegistry, load  # noqa: E402
from tests.scenario import write  # noqa: E402


def diagram(folder: Path, n: int) -> Path:
    loop = (f'<bpmn:multiInstanceLoopCharacteristics isSequential="true"><bpmn:loopCardinality>{n}'
            f'</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>')
    body = ('<bpmn:startEvent id="start"/>'
            f'<bpmn:serviceTask id="A" camunda:type="external" camunda:topic="do">{loop}</bpmn:serviceTask>'
            '<bpmn:serviceTask id="undo" camunda:type="external" camunda:topic="undo" isForCompensation="true"/>'
            '<bpmn:boundaryEvent id="b" attachedToRef="A"><bpmn:compensateEventDefinition/></bpmn:boundaryEvent>'
            '<bpmn:userTask id="wait"/>'
            '<bpmn:intermediateThrowEvent id="t"><bpmn:compensateEventDefinition/></bpmn:intermediateThrowEvent>'
            '<bpmn:endEvent id="end"/>'
            '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="A"/>'
            '<bpmn:sequenceFlow id="f2" sourceRef="A" targetRef="wait"/>'
            '<bpmn:sequenceFlow id="f3" sourceRef="wait" targetRef="t"/>'
            '<bpmn:sequenceFlow id="f4" sourceRef="t" targetRef="end"/>'
            '<bpmn:association id="a1" sourceRef="b" targetRef="undo"/>')
    return write(folder, body)


def measure(n: int) -> dict[str, float]:
    undone: list[int] = []
    counter = iter(range(n))
    registry = HandlerRegistry()
    registry.register("do", lambda call: {"i": next(counter)})
    registry.register("undo", lambda call: undone.append(call.data["i"]) or {})
    with tempfile.TemporaryDirectory() as folder:
        definitions = load([diagram(Path(folder), n)])
        engine = Engine(registry)
        begin = time.perf_counter()
        instance = engine.start(definitions)
        instance.run()
        forward = time.perf_counter() - begin
        state = instance.state()
        size = len(json.dumps(state))
        ledger = len(json.dumps(state.get("compensation", {})))
        task = next(w for w in instance.waiting() if w.element_id == "wait")
        begin = time.perf_counter()
        instance.complete_user_task(task.task_id)
        result = instance.run()
        backward = time.perf_counter() - begin
    assert result.status == "completed" and undone == list(range(n - 1, -1, -1))
    return {"n": n, "forward_s": forward, "state_kb": size / 1024, "ledger_kb": ledger / 1024,
            "compensate_s": backward, "per_handler_ms": 1000 * backward / n}


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [100, 1000]
    print(f"{'N':>6} {'run N (s)':>10} {'state kB':>9} {'ledger kB':>10} {'undo N (s)':>11} {'per handler':>12}")
    for n in sizes:
        m = measure(n)
        print(f"{m['n']:>6} {m['forward_s']:>10.2f} {m['state_kb']:>9.1f} {m['ledger_kb']:>10.1f} "
              f"{m['compensate_s']:>11.2f} {m['per_handler_ms']:>9.2f} ms")


if __name__ == "__main__":
    main()
