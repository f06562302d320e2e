"""The decisions of one simulated run: which flow a gateway takes, and the list of everything assumed."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

from ..errors import InvalidOperationError
from ..models import SimulateOptions, Simulated


class UndecidableCondition(Exception):
    """A gateway condition that cannot be decided in a simulation (no condition, missing data, another language)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Alternative:
    """One outgoing flow of a gateway, with what its condition said: True, False or None (undecidable)."""

    flow_id: str
    target_id: str
    name: str = ""
    verdict: bool | None = None
    reason: str = ""
    default: bool = False

    @property
    def label(self) -> str:
        return f"{self.flow_id} (to {self.target_id})" if self.flow_id else f"to {self.target_id}"

    def matches(self, wanted: str) -> bool:
        return wanted in (self.flow_id, self.target_id) or (bool(self.name) and wanted == self.name)


@dataclass
class BranchPoint:
    """A decision point of an all-paths walk: how many alternatives it had and which one this run took."""

    gateway_id: str
    count: int
    taken: int


@dataclass
class Simulator:
    """Decides gateways and records substitutions for one simulated instance.

    `plan` forces the alternative taken at each branching decision (in the order they happen), for --all-paths."""

    options: SimulateOptions = field(default_factory=SimulateOptions)
    plan: list[int] = field(default_factory=list)
    substitutions: list[Simulated] = field(default_factory=list)
    choices: list[dict[str, str]] = field(default_factory=list)
    branches: list[BranchPoint] = field(default_factory=list)
    flows: dict[tuple[str, str], str] = field(default_factory=dict)   # (source id, target id) -> flow id
    flow_names: dict[str, str] = field(default_factory=dict)          # flow id -> name

    def __post_init__(self) -> None:
        self.rng = random.Random(self.options.seed) if self.options.seed is not None else None
        self.visits: Counter[str] = Counter()
        self.taken: Counter[tuple[str, str]] = Counter()
        self._seen: set[Simulated] = set()

    # ----- substitutions ------------------------------------------------------------------------------------

    def record(self, element_id: str, assumed: str) -> None:
        """List one assumption (each once: a loop does not repeat it)."""
        item = Simulated(element_id, assumed)
        if item not in self._seen:
            self._seen.add(item)
            self.substitutions.append(item)

    # ----- gateways -----------------------------------------------------------------------------------------

    def decide(self, gateway_id: str, alternatives: list[Alternative], *, inclusive: bool = False) -> list[int]:
        """The indices of the alternatives to take at this gateway, recorded with the reason."""
        self.visits[gateway_id] += 1
        natural, how, note = self._natural(alternatives, inclusive)
        chosen = natural
        wanted = self.options.choose.get(gateway_id)
        if wanted is not None:
            index = next((i for i, a in enumerate(alternatives) if a.matches(wanted)), None)
            if index is None:
                flows = ", ".join(a.flow_id or a.target_id for a in alternatives)
                raise InvalidOperationError(f"--choose {gateway_id}={wanted}: no such flow out of {gateway_id}; "
                                            f"its flows are {flows}")
            chosen, how, note = [index], "chosen with --choose", ""
        elif self.options.all_paths and self.visits[gateway_id] == 1 and len(alternatives) > 1:
            options = [natural] + [[i] for i in range(len(alternatives)) if [i] != natural]
            position = len(self.branches)
            pick = self.plan[position] if position < len(self.plan) else 0
            self.branches.append(BranchPoint(gateway_id, len(options), pick))
            if pick:
                chosen, how, note = options[pick], f"--all-paths: alternative {pick + 1} of {len(options)}", ""
        elif self.rng is not None and len(alternatives) > 1:
            chosen, how, note = [self.rng.randrange(len(alternatives))], f"--random {self.options.seed}", ""
        if self.visits[gateway_id] > self.options.loop_rounds and len(alternatives) > 1:
            least = min(range(len(alternatives)), key=lambda i: (self.taken[(gateway_id, alternatives[i].flow_id)],
                                                                  not alternatives[i].default, i))
            if least not in chosen:
                chosen, how = [least], f"passed {self.options.loop_rounds} times; left the loop by the flow taken least"
                note = how
        if note:
            self.record(gateway_id, note)
        for index in chosen:
            self.taken[(gateway_id, alternatives[index].flow_id)] += 1
            if len(alternatives) > 1:
                self.choices.append({"element": gateway_id, "flow": alternatives[index].flow_id,
                                     "target": alternatives[index].target_id, "why": how})
        return chosen

    def decide_outcome(self, element_id: str, errors: list[tuple[str, str]]) -> tuple[str, str] | None:
        """For a task with error boundary events: complete normally (None), or (boundary id, error code) to throw."""
        options = [Alternative("", "complete", "complete", verdict=True)] + \
            [Alternative(boundary, boundary, code, verdict=False) for boundary, code in errors]
        index = self.decide(element_id, options)[0]
        return None if index == 0 else errors[index - 1]

    @staticmethod
    def _natural(alternatives: list[Alternative], inclusive: bool) -> tuple[list[int], str, str]:
        """What the conditions decide; where they cannot, the default flow, else the first: (indices, why, note)."""
        true = [i for i, a in enumerate(alternatives) if a.verdict is True and not a.default]
        if true:
            return (true if inclusive else true[:1]), "condition true", ""
        undecided = [i for i, a in enumerate(alternatives) if a.verdict is None and not a.default]
        default = next((i for i, a in enumerate(alternatives) if a.default), None)
        if not undecided:
            if default is not None:
                return [default], "default flow", ""
            return [0], "first flow (no condition true)", \
                f"no condition is true with the simulated data; took the first flow {alternatives[0].label}"
        reasons = "; ".join(dict.fromkeys(alternatives[i].reason for i in undecided if alternatives[i].reason))
        pick = default if default is not None else undecided[0]
        which = "default" if default is not None else "first"
        return [pick], f"{which} flow (undecidable)", \
            f"cannot decide ({reasons}); took the {which} flow {alternatives[pick].label}"


def next_plan(branches: list[BranchPoint]) -> list[int] | None:
    """The plan of the next path of a depth-first walk over the decision points, or None when all are walked."""
    plan = [b.taken for b in branches]
    while plan:
        last = len(plan) - 1
        if plan[last] + 1 < branches[last].count:
            plan[last] += 1
            return plan
        plan.pop()
    return None


def parse_choices(items: list[str] | None) -> dict[str, str]:
    """`--choose GATEWAY=FLOW` options as a dict."""
    choose: dict[str, str] = {}
    for item in items or []:
        gateway, sep, flow = item.partition("=")
        if not sep or not gateway.strip() or not flow.strip():
            raise InvalidOperationError(f"--choose {item!r}: write GATEWAY_ID=FLOW_ID (the flow's id, its target's "
                                        f"id or its name)")
        choose[gateway.strip()] = flow.strip()
    return choose
