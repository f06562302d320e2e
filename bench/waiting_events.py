"""Cost per step while events wait: a chain of service tasks inside a sub-process that has N non-interrupting
timer boundary events waiting. After each task the engine checks waiting conditional events (Camunda evaluates
them as soon as variables change); a process without conditional events skips that check, so these rows show
what waiting timers themselves cost. Run by hand: .venv/bin/python bench/waiting_events.py [--tasks 500]
[--events 0,1,20,100]"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bpmn_runner import Engine, HandlerRegistry, load  # noqa: E402
from tests.scenario import definitions_xml  # noqa: E402


def diagram(tasks: int, events: int) -> str:
    inner = '<bpmn:startEvent id="s0"/>' + "".join(
        f'<bpmn:serviceTask id="t{i}" camunda:type="external" camunda:topic="noop"/>' for i in range(tasks))
    inner += '<bpmn:endEvent id="e0"/>'
    ids = ["s0", *[f"t{i}" for i in range(tasks)], "e0"]
    inner += "".join(f'<bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}"/>'
                     for i, (a, b) in enumerate(zip(ids, ids[1:])))
    body = f'<bpmn:startEvent id="start"/><bpmn:subProcess id="sub">{inner}</bpmn:subProcess><bpmn:endEvent id="end"/>'
    body += '<bpmn:sequenceFlow id="a" sourceRef="start" targetRef="sub"/><bpmn:sequenceFlow id="b" sourceRef="sub" ' \
            'targetRef="end"/>'
    for n in range(events):
        body += (f'<bpmn:boundaryEvent id="late{n}" attachedToRef="sub" cancelActivity="false"><bpmn:timerEventDefinition>'
                 f'<bpmn:timeDuration>P{n + 1}D</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>'
                 f'<bpmn:endEvent id="late_end{n}"/><bpmn:sequenceFlow id="lf{n}" sourceRef="late{n}" '
                 f'targetRef="late_end{n}"/>')
    return definitions_xml(body)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=500)
    parser.add_argument("--events", default="0,1,20,100")
    args = parser.parse_args()
    handlers = HandlerRegistry()
    handlers.register("noop", lambda call: None)
    folder = Path(tempfile.mkdtemp())
    print(f"{'waiting events':>15} {'µs per task':>12}")
    for events in [int(n) for n in args.events.split(",")]:
        path = folder / f"chain_{events}.bpmn"
        path.write_text(diagram(args.tasks, events), encoding="utf-8")
        definitions = load([path])
        begin = time.perf_counter()
        result = Engine(handlers).start(definitions).run()
        elapsed = time.perf_counter() - begin
        assert result.status == "completed", result.error
        print(f"{events:>15} {elapsed / args.tasks * 1e6:>12.0f}")


if __name__ == "__main__":
    main()
