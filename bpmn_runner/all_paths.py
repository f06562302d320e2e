"""`run --simulate --all-paths`: walk each decision point's alternatives in turn and report where each path ends."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .definitions import Definitions
from .engine import Engine
from .models import RunResult
from .simulation.simulator import next_plan


@dataclass
class AllPaths:
    """Every path walked, in depth-first order of the decisions; `truncated` when the bound stopped the walk."""

    process_id: str
    paths: list[RunResult] = field(default_factory=list)
    truncated: bool = False

    @property
    def status(self) -> str:
        return "failed" if any(p.status == "failed" for p in self.paths) else "completed"

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "process_id": self.process_id, "truncated": self.truncated,
                "paths": [dict(path_json(p), number=i + 1) for i, p in enumerate(self.paths)]}

    def lines(self) -> list[str]:
        """One line per path: the decisions taken and where it ended."""
        out = [f"{self.process_id}: {len(self.paths)} path(s)" +
               (" (stopped at the --max-paths bound; more remain)" if self.truncated else "")]
        for number, result in enumerate(self.paths, 1):
            decisions = ", ".join(f"{c['element']} → {c['flow'] or c['target']}" for c in result.choices) or \
                "no decisions"
            out.append(f"path {number}: {decisions} ⇒ {ending(result)}")
        return out


def ending(result: RunResult) -> str:
    if result.status == "completed":
        return "completed at " + ", ".join(end_events(result) or result.path[-1:] or ["the start"])
    if result.status == "waiting":
        return "waiting at " + ", ".join(w.element_id for w in result.waiting)
    return f"failed: {result.error}"


def end_events(result: RunResult) -> list[str]:
    return list(dict.fromkeys(h.element_id for h in result.history
                              if h.event == "completed" and h.element_type.endswith("EndEvent")))


def path_json(result: RunResult) -> dict[str, Any]:
    out = result.to_json()
    out.pop("data", None)
    out["end"] = end_events(result) if result.status == "completed" else [w.element_id for w in result.waiting]
    return out


def walk_all_paths(engine: Engine, definitions: Definitions, process_id: str | None,
                   data: dict[str, Any] | None = None) -> AllPaths:
    """Run one instance per combination of decisions (depth first), at most `engine.simulation.max_paths`."""
    plan: list[int] | None = []
    walked = AllPaths(definitions.choose_process(process_id))
    while plan is not None and len(walked.paths) < engine.simulation.max_paths:
        instance = engine.start(definitions, walked.process_id, dict(data or {}))
        assert instance.simulator is not None
        instance.simulator.plan = plan
        walked.paths.append(instance.run())
        plan = next_plan(instance.simulator.branches)
    walked.truncated = plan is not None
    return walked
