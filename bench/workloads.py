"""The workloads, run inside a worker process for one side: raw SpiffWorkflow ("raw", "lifted") or bpmn-runner.

Each returns a dict: ok, why (when not ok), value (the row's unit), and optionally steps (per-step timings),
state_bytes. The caller adds the peak memory. Service tasks call a handler that stamps the clock, so both sides
pay the same handler cost and per-step timings come from the same probe.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Any, Callable

STAMPS: list[float] = []


def stamp(data: dict[str, Any] | None = None) -> None:
    STAMPS.append(time.perf_counter())


def count(data: dict[str, Any]) -> None:
    STAMPS.append(time.perf_counter())
    data["i"] = data["i"] + 1


def step_summary(stamps: list[float], buckets: int = 60) -> dict[str, Any]:
    """Median µs per step near the start (steps 10-210), near the end (last 200), and a downsampled curve."""
    gaps = [(b - a) * 1e6 for a, b in zip(stamps, stamps[1:])]
    if len(gaps) < 20:
        return {}
    window = min(200, len(gaps) // 4)
    head = gaps[10:10 + window]
    tail = gaps[-window:]
    size = max(1, len(gaps) // buckets)
    curve = [(i + size // 2, statistics.median(gaps[i:i + size])) for i in range(0, len(gaps) - size + 1, size)]
    return {"start_us": statistics.median(head), "end_us": statistics.median(tail), "curve": curve}


# ----- the two sides, behind one small interface -----------------------------------------------------------------

class Raw:
    """Stock SpiffWorkflow; HandlerTask calls raw_spiff.HANDLERS[topic](task.data)."""

    def __init__(self, lifted: bool) -> None:
        from bench import raw_spiff
        self.raw = raw_spiff
        if lifted:
            raw_spiff.lift()
        raw_spiff.HANDLERS.update({"noop": lambda data: None, "stamp": stamp, "count": count})

    def prepare(self, path: Path, process_id: str) -> Any:
        return self.raw.parse(str(path.with_name("raw_" + path.name)), process_id)  # conditions in Python

    def run(self, spec: Any, data: dict[str, Any], end: str) -> tuple[bool, str, Any]:
        wf = self.raw.run(spec, data)
        if self.raw.reached(wf, end):
            return True, "", wf
        left = self.raw.unfinished(wf)
        return False, (f"stopped early: '{end}' not reached, {left} tasks unfinished, is_completed()="
                       f"{wf.is_completed()} (depth limit)"), wf

    def data(self, wf: Any) -> dict[str, Any]:
        return wf.data

    def state_bytes(self, wf: Any) -> int:
        return self.raw.state_bytes(wf)


class Runner:
    """bpmn-runner through its Python API: load(), Engine(handlers).start(...).run()."""

    def __init__(self) -> None:
        from bpmn_runner.definitions import load
        from bpmn_runner.engine import Engine
        from bpmn_runner.registry import HandlerRegistry
        self.load = load
        handlers = HandlerRegistry()
        handlers.register("noop", lambda call: None)
        handlers.register("stamp", lambda call: stamp())
        handlers.register("count", self._count)
        self.engine = Engine(handlers)

    @staticmethod
    def _count(call: Any) -> dict[str, Any]:
        STAMPS.append(time.perf_counter())
        return {"i": call.data["i"] + 1}

    def prepare(self, path: Path, process_id: str) -> Any:
        definitions = self.load([str(path)])
        definitions.built.spec(process_id)
        return definitions, process_id

    def run(self, prepared: Any, data: dict[str, Any], end: str) -> tuple[bool, str, Any]:
        definitions, process_id = prepared
        instance = self.engine.start(definitions, process_id, data)
        result = instance.run()
        if result.status == "completed" and result.path and result.path[-1] == end:
            return True, "", (instance, result)
        return False, f"status {result.status}, last {result.path[-1:]}, error {result.error}", (instance, result)

    def data(self, ran: Any) -> dict[str, Any]:
        return ran[1].data

    def state_bytes(self, ran: Any) -> int:
        return len(json.dumps(ran[0].state()))


def side(name: str) -> Raw | Runner:
    return Runner() if name == "runner" else Raw(lifted=name == "lifted")


# ----- workloads --------------------------------------------------------------------------------------------------

def w1(s: Raw | Runner, models: Path, instances: int) -> dict[str, Any]:
    spec = s.prepare(models / "straight.bpmn", "straight")
    for _ in range(min(50, instances)):  # warm-up
        s.run(spec, {"x": 1}, "end_b")
    started = time.perf_counter()
    for _ in range(instances):
        ok, why, _ = s.run(spec, {"x": 1}, "end_b")
        if not ok:
            return {"ok": False, "why": why}
    return {"ok": True, "value": instances / (time.perf_counter() - started)}


def w2(s: Raw | Runner, models: Path, n: int) -> dict[str, Any]:
    spec = s.prepare(models / f"chain_{n}.bpmn", "chain")
    STAMPS.clear()
    started = time.perf_counter()
    ok, why, _ = s.run(spec, {}, "end")
    elapsed = time.perf_counter() - started
    if ok and len(STAMPS) != n:
        ok, why = False, f"ran {len(STAMPS)} of {n} tasks"
    if not ok:
        return {"ok": False, "why": why or "", "steps_done": len(STAMPS)}
    return {"ok": True, "value": elapsed / n * 1e6, "steps": step_summary(STAMPS)}


def w3(s: Raw | Runner, models: Path, instances: int) -> dict[str, Any]:
    spec = s.prepare(models / "parallel_50.bpmn", "fanout")
    s.run(spec, {}, "end")
    started = time.perf_counter()
    for _ in range(instances):
        ok, why, _ = s.run(spec, {}, "end")
        if not ok:
            return {"ok": False, "why": why}
    return {"ok": True, "value": (time.perf_counter() - started) / instances * 1e3}


def w4(s: Raw | Runner, models: Path, n: int) -> dict[str, Any]:
    spec = s.prepare(models / "loop.bpmn", "loop")
    STAMPS.clear()
    started = time.perf_counter()
    ok, why, ran = s.run(spec, {"i": 0, "n": n}, "end")
    elapsed = time.perf_counter() - started
    if ok and s.data(ran).get("i") != n:
        ok, why = False, f"i == {s.data(ran).get('i')}, expected {n}"
    if not ok:
        return {"ok": False, "why": why, "steps_done": len(STAMPS)}
    return {"ok": True, "value": elapsed / n * 1e6, "steps": step_summary(STAMPS), "state_bytes": s.state_bytes(ran)}


def w6(s: Raw | Runner, models: Path, elements: int) -> dict[str, Any]:
    path = models / f"parse_{elements}.bpmn"
    times = []
    for _ in range(5 if elements < 1000 else 3):
        started = time.perf_counter()
        s.prepare(path, "chain")
        times.append(time.perf_counter() - started)
    return {"ok": True, "value": statistics.median(times) * 1e3}


WORKLOADS: dict[str, Callable[..., dict[str, Any]]] = {"W1": w1, "W2": w2, "W3": w3, "W4": w4, "W6": w6}
